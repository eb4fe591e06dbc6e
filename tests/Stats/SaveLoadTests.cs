using System.Text.Json.Nodes;
using OptNeurons.Loading;
using OptNeurons.Stats;
using static OptNeurons.Tests.Stats.StatsTestData;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

public sealed class SaveLoadTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"optneurons-stats-{Guid.NewGuid():N}");

    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }

    static NeuronStats Sample(StatsOptions? options = null) =>
        MergeTests.Run(RandomSequences(seed: 8, count: 7, minLength: 1, maxLength: 10, vocab: 11, layers: 2, ffn: 5, density: 0.4),
                       options ?? new StatsOptions { SketchCapacity = 4 });

    [Fact]
    public void SaveThenLoad_GivesIdenticalArraysAndManifest()
    {
        var stats = Sample();
        Assert.True(stats.SketchError(5, 0, 3) > 0 || stats.SketchError(5, 1, 3) > 0, "overflowed summaries must round-trip too");
        stats.Save(dir);
        var loaded = NeuronStats.Load(dir);
        AssertEqual(stats, loaded);
        Assert.Equal(stats.Manifest, loaded.Manifest);
        Assert.Equal(StatsManifest.CurrentLibraryVersion, loaded.Manifest.LibraryVersion);
        stats.Save(dir);   // saving over a previous save is fine
        AssertEqual(stats, NeuronStats.Load(dir));

        var noPositions = Sample(new StatsOptions { TrackPositions = false, NgramOrders = [] });
        noPositions.Save(dir);
        AssertEqual(noPositions, NeuronStats.Load(dir));
    }

    [Fact]
    public void SavedFile_HasSelfExplanatoryNames_StandardDtypes_AndShapes()
    {
        Sample().Save(dir);
        var (entries, metadata) = SafeTensors.ReadHeader(Path.Combine(dir, NeuronStats.TensorsFile));
        var expected = new Dictionary<string, (ScalarType, long[])>
        {
            ["layers"] = (ScalarType.Int64, [2]), ["token_count"] = (ScalarType.Int64, []), ["sequence_count"] = (ScalarType.Int64, []),
            ["active_counts"] = (ScalarType.Int64, [2, 5]), ["position_token_counts"] = (ScalarType.Int64, [10]),
            ["position_active_counts"] = (ScalarType.Int32, [2, 10, 5]), ["occurrences1.counts"] = (ScalarType.Int64, [11]),
        };
        foreach (int n in new[] { 1, 2, 3 })
        {
            expected[$"ngram{n}.keys"] = (ScalarType.Int64, [2, 5, 4]);
            expected[$"ngram{n}.counts"] = (ScalarType.Int32, [2, 5, 4]);
            expected[$"ngram{n}.error"] = (ScalarType.Int64, [2, 5]);
        }
        long distinctBigrams = entries["occurrences2.keys"].Shape[0];
        Assert.True(distinctBigrams > 10);
        expected["occurrences2.keys"] = expected["occurrences2.counts"] = (ScalarType.Int64, [distinctBigrams]);
        long distinctTrigrams = entries["occurrences3.keys"].Shape[0];
        expected["occurrences3.keys"] = expected["occurrences3.counts"] = (ScalarType.Int64, [distinctTrigrams]);
        Assert.Equal(expected.Keys.Order(), entries.Keys.Order());
        foreach (var (name, (dtype, shape)) in expected)
        {
            Assert.Equal(dtype, entries[name].Dtype);
            Assert.Equal(shape, entries[name].Shape);
        }
        Assert.Equal("optneurons-stats", metadata["format"]);
        Assert.Equal("1", metadata["format_version"]);

        var tensors = SafeTensors.ReadAll(Path.Combine(dir, NeuronStats.TensorsFile));
        var keys = tensors["ngram1.keys"].data<long>().ToArray();
        var counts = tensors["ngram1.counts"].data<int>().ToArray();
        Assert.All(keys.Zip(counts), p => Assert.True(p.First == -1 ? p.Second == 0 : p.Second > 0));
        Assert.Contains(-1L, keys);
        foreach (var t in tensors.Values) t.Dispose();
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, NeuronStats.ManifestFile)))!;
        Assert.Equal(5, manifest["ffn_dim"]!.GetValue<int>());
        Assert.Equal(4, manifest["options"]!["sketch_capacity"]!.GetValue<int>());
    }

    [Fact]
    public void Load_ExplainsMissingFiles_WrongVersion_AndShapeMismatch()
    {
        Assert.Contains("no such statistics folder", Assert.Throws<DirectoryNotFoundException>(() => NeuronStats.Load(dir)).Message);
        var stats = Sample();
        stats.Save(dir);
        var manifestPath = Path.Combine(dir, NeuronStats.ManifestFile);
        var json = File.ReadAllText(manifestPath);

        File.WriteAllText(manifestPath, json.Replace("\"format_version\": 1", "\"format_version\": 99"));
        Assert.Contains("format version 99; this library reads format version 1", Assert.Throws<InvalidDataException>(() => NeuronStats.Load(dir)).Message);

        File.Delete(manifestPath);   // what an interrupted save leaves behind
        Assert.Contains("save did not finish", Assert.Throws<FileNotFoundException>(() => NeuronStats.Load(dir)).Message);

        // A tensor whose shape disagrees with a manifest that is otherwise consistent.
        File.WriteAllText(manifestPath, json);
        var path = Path.Combine(dir, NeuronStats.TensorsFile);
        var (_, metadata) = SafeTensors.ReadHeader(path);
        var tensors = SafeTensors.ReadAll(path);
        tensors["active_counts"] = zeros(2, 4, ScalarType.Int64);
        SafeTensors.Write(path, tensors, metadata);
        var message = Assert.Throws<InvalidDataException>(() => NeuronStats.Load(dir)).Message;
        Assert.Contains("'active_counts' is Int64 [2, 4]; the manifest implies Int64 [2, 5]", message);
        foreach (var t in tensors.Values) t.Dispose();

        File.Delete(path);
        Assert.Contains("stats.safetensors is missing", Assert.Throws<FileNotFoundException>(() => NeuronStats.Load(dir)).Message);
    }

    [Theory]
    [InlineData("active_counts", 3, -1000L, "active_counts[3] = -1000, outside [0, ")]
    [InlineData("active_counts", 0, 1_000_000_000_000L, "active_counts[0] = 1000000000000, outside [0, ")]
    [InlineData("ngram1.keys", 0, 999_999_999L, "ngram1.keys[0] = 999999999, outside [0, 131072)")]
    [InlineData("ngram2.error", 1, -5L, "ngram2.error[1] = -5, outside [0, ")]
    [InlineData("position_token_counts", 0, 0L, "position_token_counts sum to")]
    [InlineData("position_active_counts", 0, 10_000L, "position_active_counts[0][0] = 10000, outside [0, ")]
    [InlineData("ngram1.counts", 0, -1L, "ngram1.counts[0] = -1, outside [0, ")]
    [InlineData("occurrences1.counts", 3, 1_000L, "occurrences1.counts sum to")]
    public void Load_RefusesCountsNoCaptureCouldProduce(string name, int index, long value, string expected)
    {
        Sample().Save(dir);
        var path = Path.Combine(dir, NeuronStats.TensorsFile);
        var (_, metadata) = SafeTensors.ReadHeader(path);
        var tensors = SafeTensors.ReadAll(path);
        tensors[name].view(-1)[index] = tensor(value);   // as an edit or a damaged disk might leave it
        SafeTensors.Write(path, tensors, metadata);
        foreach (var t in tensors.Values) t.Dispose();
        var message = Assert.Throws<InvalidDataException>(() => NeuronStats.Load(dir)).Message;
        Assert.Contains(expected, message);
        Assert.Contains(path, message);
    }
}
