using System.Text.Json.Nodes;
using OptNeurons.Findings;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Findings;

/// <summary>Reading a fixture's expected/ folder: what it holds, and errors that name the file and key at fault.</summary>
public class ReferenceFixtureTests
{
    [Fact]
    public void Open_ReadsEveryExpectedFile_WithItsShape()
    {
        var fixture = ReferenceFixture.Open(Fixtures.TinyPreLn);
        Assert.Equal("opt-tiny-pre-ln", fixture.Name);
        Assert.Equal([4L, 12, 4096], fixture.LogitsShape);
        Assert.Equal([3L, 4, 12, 128], fixture.ActivationsShape);
        Assert.Equal(4 * 12 * 4096, fixture.Logits.Length);
        Assert.Equal(3 * 4 * 12 * 128, fixture.Activations.Length);
        Assert.Equal(fixture.StatsSequences.Sum(s => s.Length), fixture.TotalTokens);
        Assert.All(fixture.ActiveCounts, counts => Assert.Equal(128, counts.Length));
        Assert.Equal(fixture.DeadCounts, fixture.ActiveCounts.Select(c => c.Count(n => n == 0)));
        Assert.True(fixture.Activations.All(a => a >= 0));   // ReLU outputs
    }

    [Fact]
    public void FoldersIn_ListsOnlyFixtures_ByName()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Sub("b-fixture/expected"));
        File.WriteAllText(dir.Sub("b-fixture/expected/manifest.json"), "{}");
        Directory.CreateDirectory(dir.Sub("a-fixture/expected"));
        File.WriteAllText(dir.Sub("a-fixture/expected/manifest.json"), "{}");
        Directory.CreateDirectory(dir.Sub("not-a-fixture"));
        Assert.Equal([dir.Sub("a-fixture"), dir.Sub("b-fixture")], ReferenceFixture.FoldersIn(dir.Path));
        Assert.Empty(ReferenceFixture.FoldersIn(dir.Sub("missing")));
    }

    [Fact]
    public void MissingKey_IsNamedWithItsFile()
    {
        using var copy = CopyOfExpected();
        var inputs = copy.Sub("expected/inputs.json");
        EditJson(inputs, json => json.AsObject().Remove("stats_sequences"));
        var error = Assert.Throws<InvalidDataException>(() => ReferenceFixture.Open(copy.Path));
        Assert.Equal($"{inputs}: no \"stats_sequences\" where the reference-fixture format has one.", error.Message);
    }

    [Fact]
    public void TruncatedValues_AreRefused_WithTheManifestsShape()
    {
        using var copy = CopyOfExpected();
        var logits = copy.Sub("expected/logits.bin");
        using (var file = File.Open(logits, FileMode.Open)) file.SetLength(1000);
        var error = Assert.Throws<InvalidDataException>(() => ReferenceFixture.Open(copy.Path));
        Assert.Equal($"{logits}: 1000 bytes, but manifest.json's shape [4, 12, 4096] in float32 needs 786432.", error.Message);
    }

    [Theory]
    [InlineData("float64", "little")]
    [InlineData("float64", "big")]
    [InlineData("float16", "little")]
    [InlineData("bfloat16", "big")]
    [InlineData("float32", "big")]
    public void ValuesInOtherDtypesAndByteOrders_ReadAsTheManifestSays(string dtype, string order)
    {
        var original = ReferenceFixture.Open(Fixtures.TinyPreLn).Activations;
        // What each dtype can hold of the original values: the reader must give exactly these back.
        float[] held = dtype switch
        {
            "float16" => [.. original.Select(v => (float)(Half)v)],
            "bfloat16" => [.. original.Select(v => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) & unchecked((int)0xFFFF0000)))],
            _ => original,
        };
        Assert.True(dtype is "float32" or "float64" || !held.SequenceEqual(original));   // the narrow dtypes do round
        byte[] Bytes(float v) => dtype switch
        {
            "float64" => BitConverter.GetBytes((double)v),
            "float16" => BitConverter.GetBytes((Half)v),
            "bfloat16" => BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(v) >>> 16)),
            _ => BitConverter.GetBytes(v),
        };
        using var copy = CopyOfExpected();
        File.WriteAllBytes(copy.Sub("expected/activations.bin"),
            [.. held.SelectMany(v => order == "big" ? Bytes(v).Reverse() : Bytes(v))]);
        SetActivationsEntry(copy, dtype, order);

        Assert.Equal(held, ReferenceFixture.Open(copy.Path).Activations);
    }

    [Fact]
    public void UnknownDtype_IsRefused_NamingTheManifestAndFile()
    {
        using var copy = CopyOfExpected();
        SetActivationsEntry(copy, "int8", "little");
        var error = Assert.Throws<InvalidDataException>(() => ReferenceFixture.Open(copy.Path));
        Assert.Equal($"{copy.Sub("expected/manifest.json")}: \"activations.bin\" has dtype \"int8\"; expected float32, float64, float16 or bfloat16.",
                     error.Message);
    }

    static void SetActivationsEntry(TempDirectory copy, string dtype, string order)
    {
        EditJson(copy.Sub("expected/manifest.json"), manifest =>
        {
            manifest["files"]!["activations.bin"]!["dtype"] = dtype;
            manifest["files"]!["activations.bin"]!["byte_order"] = order;
        });
    }

    [Theory]
    [InlineData("row-major", new[] { "batch", "layer", "seq", "ffn" })]
    [InlineData("row-major", new[] { "ffn", "seq", "batch", "layer" })]
    [InlineData("column-major", new[] { "layer", "batch", "seq", "ffn" })]
    [InlineData("column-major", new[] { "seq", "layer", "ffn", "batch" })]
    public void ValuesInOtherAxisOrders_ReadInTheCanonicalOrder(string layout, string[] dims)
    {
        var original = ReferenceFixture.Open(Fixtures.TinyPreLn);
        var canonical = new[] { "layer", "batch", "seq", "ffn" };
        // Store the activations with their axes in the order `dims`, in the given layout, as another writer might.
        using var values = Fixtures.ToTensor(original.Activations, original.ActivationsShape);
        var axes = dims.Select(d => (long)Array.IndexOf(canonical, d)).ToArray();
        using var stored = values.permute(axes).contiguous();
        long[] shape = [.. stored.shape];
        using var bytes = layout == "column-major" ? stored.permute([.. Enumerable.Range(0, 4).Reverse().Select(i => (long)i)]).contiguous() : stored.clone();
        using var copy = CopyOfExpected();
        File.WriteAllBytes(copy.Sub("expected/activations.bin"), [.. bytes.data<float>().ToArray().SelectMany(BitConverter.GetBytes)]);
        EditJson(copy.Sub("expected/manifest.json"), manifest =>
        {
            var entry = manifest["files"]!["activations.bin"]!;
            entry["shape"] = new JsonArray([.. shape.Select(n => JsonValue.Create(n))]);
            entry["dims"] = new JsonArray([.. dims.Select(d => JsonValue.Create(d))]);
            entry["layout"] = layout;
        });

        var read = ReferenceFixture.Open(copy.Path);
        Assert.Equal(original.ActivationsShape, read.ActivationsShape);
        Assert.Equal(original.Activations, read.Activations);
    }

    [Fact]
    public void UnknownDims_AreRefused_NamingWhatIsExpected()
    {
        using var copy = CopyOfExpected();
        var path = copy.Sub("expected/manifest.json");
        EditJson(path, manifest => manifest["files"]!["logits.bin"]!["dims"] = new JsonArray("batch", "position", "vocab"));
        var error = Assert.Throws<InvalidDataException>(() => ReferenceFixture.Open(copy.Path));
        Assert.Equal($"{path}: \"logits.bin\" has dims [batch, position, vocab] for shape [4, 12, 4096]; expected the dims batch, seq, vocab, in any order.",
                     error.Message);
    }

    [Fact]
    public void StatsLayers_AreReadInTheOrderTheyName()
    {
        var original = ReferenceFixture.Open(Fixtures.TinyPreLn);
        using var copy = CopyOfExpected();
        EditJson(copy.Sub("expected/stats.json"), stats =>
            stats["layers"] = new JsonArray([.. stats["layers"]!.AsArray().Reverse().Select(l => l!.DeepClone())]));
        var read = ReferenceFixture.Open(copy.Path);
        Assert.Equal(original.DeadCounts, read.DeadCounts);
        Assert.Equal(original.ActiveCounts, read.ActiveCounts);
        Assert.NotEqual(original.DeadCounts[0], original.DeadCounts[^1]);   // so that the order shows
    }

    [Fact]
    public void Float32Reference_IsComparedTo1e4_AndCountForCount()
    {
        var fixture = ReferenceFixture.Open(Fixtures.TinyPreLn);
        Assert.Equal("float32", fixture.ComputeDtype);
        Assert.True(fixture.IsExact);
        Assert.Equal(1e-4, fixture.Tolerance(fixture.Logits));
        Assert.Equal(0, fixture.CountsMovedAllowed);
    }

    [Theory]
    [InlineData("bfloat16", 256)]    // unit roundoff 2^-8
    [InlineData("float16", 2048)]    // unit roundoff 2^-11
    public void HalfPrecisionReference_IsAllowedItsRounding(string compute, int inverseRoundoff)
    {
        using var copy = CopyOfExpected();
        SetComputeDtype(copy, compute);
        var fixture = ReferenceFixture.Open(copy.Path);
        Assert.False(fixture.IsExact);
        double largest = fixture.Logits.Max(Math.Abs);
        Assert.True(largest > 1);
        Assert.Equal(16.0 * largest / inverseRoundoff, fixture.Tolerance(fixture.Logits), 1e-12);
        Assert.Equal(16.0 / inverseRoundoff, fixture.Tolerance([0.25f, -0.5f]), 1e-12);   // magnitudes below 1 count as 1
        Assert.Equal(179 * 3 * 128 / 100, fixture.CountsMovedAllowed);                      // 1 % of 179 tokens × 384 neurons
    }

    [Fact]
    public void ManifestWithoutComputeDtype_IsAFloat32Reference()
    {
        using var copy = CopyOfExpected();
        EditJson(copy.Sub("expected/manifest.json"), manifest => manifest.AsObject().Remove("compute_dtype"));
        Assert.Equal("float32", ReferenceFixture.Open(copy.Path).ComputeDtype);
    }

    [Fact]
    public void UnknownComputeDtype_IsRefused_NamingTheManifest()
    {
        using var copy = CopyOfExpected();
        SetComputeDtype(copy, "int8");
        var error = Assert.Throws<InvalidDataException>(() => ReferenceFixture.Open(copy.Path));
        Assert.Equal($"{copy.Sub("expected/manifest.json")}: compute_dtype is \"int8\"; expected float32, float64, float16 or bfloat16.", error.Message);
    }

    [Fact]
    public void BFloat16Fixture_HoldsBFloat16Values_ComputedInBFloat16()
    {
        var fixture = ReferenceFixture.Open(Path.Combine(Fixtures.Root, "opt-tiny-bf16-compute"));
        Assert.Equal("bfloat16", fixture.ComputeDtype);
        // Read from 16-bit files, every value has float32's lower half zero; a float32 computation would not.
        Assert.All(fixture.Logits.Concat(fixture.Activations), v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v) & 0xFFFF));
        Assert.Contains(fixture.Logits, v => Math.Abs(v) > 1);
    }

    static void SetComputeDtype(TempDirectory copy, string dtype) =>
        EditJson(copy.Sub("expected/manifest.json"), manifest => manifest["compute_dtype"] = dtype);

    /// <summary>Rewrites a JSON file of a fixture copy after <paramref name="edit"/> changes its parsed form.</summary>
    static void EditJson(string path, Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void FolderWithoutExpected_IsNotAFixture()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<DirectoryNotFoundException>(() => ReferenceFixture.Open(dir.Path));
        Assert.Contains("has no expected/manifest.json: it is not a reference fixture", error.Message);
    }

    static TempDirectory CopyOfExpected()
    {
        var copy = new TempDirectory();
        Directory.CreateDirectory(copy.Sub("expected"));
        foreach (var file in Directory.GetFiles(Path.Combine(Fixtures.TinyPreLn, "expected")))
            File.Copy(file, Path.Combine(copy.Sub("expected"), Path.GetFileName(file)));
        return copy;
    }
}
