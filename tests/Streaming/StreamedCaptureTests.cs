using OptNeurons.Capture;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using TorchSharp;
using static OptNeurons.Tests.Streaming.StreamingTestData;

namespace OptNeurons.Tests.Streaming;

/// <summary>Layer-streamed capture gives the full-model capture's statistics, byte for byte.</summary>
public class StreamedCaptureTests
{
    public static TheoryData<ResidualPlace, int?, int?, bool> Cases => new()
    {
        { ResidualPlace.Device, null, 6, true },
        { ResidualPlace.Host, 2, 3, false },
        { ResidualPlace.Disk, 4, null, true },
        { ResidualPlace.Disk, 1, 6, false },
    };

    [Theory, MemberData(nameof(Cases))]
    public void GeneratedCheckpoint_StreamedEqualsFullModel(ResidualPlace place, int? layers, int? chunk, bool readAhead)
    {
        using var dir = new TempDirectory();
        var path = Generated(dir.Path);
        var checkpoint = Checkpoint.Open(path);
        var sequences = Sequences(14, 96, 24);
        var settings = Settings(layers, chunk);
        using var model = Pretrained.Load(path, "cpu", "float32");
        var full = NeuronCapture.Run(model, sequences, settings with { ChunkSize = null }, Source(checkpoint));
        var engine = new LayerStreamedEngine(checkpoint, torch.CPU, torch.ScalarType.Float32,
            new StreamingOptions { Residual = place, SpillDirectory = dir.Sub("spill"), ReadAhead = readAhead });
        var streamed = NeuronCapture.Run(engine, sequences, settings, Source(checkpoint));

        Assert.Contains(Enumerable.Range(0, 32), f => full.SketchError(0, f, 3) > 0);   // summaries overflowed: order matters
        AssertSameBytes(Bytes(full), Bytes(streamed));
        if (place == ResidualPlace.Disk) Assert.Empty(Directory.EnumerateFiles(dir.Sub("spill")));   // the spill file is gone
    }

    [Fact]
    public void SpillFile_HasNoNameWhileOpen_AndGivesBackWhatWasPut()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var spill = ResidualStore.Create(ResidualPlace.Disk, torch.CPU, torch.ScalarType.Float32, torch.ScalarType.BFloat16, dir.Path);
        var x = torch.tensor(new float[] { 1.5f, -2.25f, 3.14159f, 1.001f }).reshape(2, 2);
        spill.Put(0, x);
        spill.Put(1, x.neg());
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));   // a killed capture leaves nothing behind (on Linux and macOS)
        // Stored in bfloat16 (8 significant bits): 3.14159 → 201/64 = 3.140625, 1.001 → 1; 1.5 and -2.25 are exact.
        float[] rounded = [1.5f, -2.25f, 3.140625f, 1f];
        Assert.Equal(rounded, spill.Get(0).data<float>().ToArray());
        Assert.Equal(rounded.Select(v => -v), spill.Get(1).data<float>().ToArray());
    }

    /// <summary>
    /// A shard cut short after the capture opened the checkpoint fails the capture with the shard's name, whether its
    /// layer is read ahead on another thread or when it is needed.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ShardCutShortAfterOpening_FailsTheCapture_NamingTheShard(bool readAhead)
    {
        using var dir = new TempDirectory();
        var checkpoint = Checkpoint.Open(Generated(dir.Path, shardOf: name => name.Contains(".layers.3.", StringComparison.Ordinal) ? 1 : 0));
        var shard = checkpoint.Tensors["model.decoder.layers.3.fc1.weight"].File;
        using (var file = File.Open(shard, FileMode.Open)) file.SetLength(file.Length / 2);
        var engine = new LayerStreamedEngine(checkpoint, torch.CPU, torch.ScalarType.Float32, new StreamingOptions { ReadAhead = readAhead });

        var error = Assert.ThrowsAny<IOException>(() => NeuronCapture.Run(engine, Sequences(4, 96, 24), Settings(), Source(checkpoint)));
        Assert.Contains(shard, error.Message);
        Assert.Contains("model.decoder.layers.3.", error.Message);
    }

    public static TheoryData<string, ResidualPlace, int?> FixtureCases
    {
        get
        {
            var data = new TheoryData<string, ResidualPlace, int?>();
            foreach (var name in Fixtures.All.Keys)
            {
                data.Add(name, ResidualPlace.Device, null);
                data.Add(name, ResidualPlace.Disk, Math.Max(1, Fixtures.Reference(name).ActiveCounts.Count / 2));   // the first half
            }
            return data;
        }
    }

    /// <summary>Every fixture variant (post-LN with projections, no biases, untied head …) streams to the full model's bytes and the reference's counts.</summary>
    [Theory, MemberData(nameof(FixtureCases))]
    public void Fixture_StreamedEqualsFullModel(string fixture, ResidualPlace place, int? layers)
    {
        var reference = Fixtures.Reference(fixture);
        using var model = Pretrained.Load(reference.ModelDirectory, "cpu", "float32");
        var settings = new CaptureSettings { BatchSize = 4, ChunkSize = 8, LayerCount = layers };
        var source = StatsSource.For(fixture, model.Config, "stats_sequences", seed: null);
        var full = NeuronCapture.Run(model, reference.StatsSequences, settings, source);
        var streamed = NeuronCapture.Run(LayerStreamedEngine.Open(reference.ModelDirectory, "cpu", "float32", new StreamingOptions { Residual = place }),
            reference.StatsSequences, settings, source);
        AssertSameBytes(Bytes(full), Bytes(streamed));
        Assert.Equal(layers ?? reference.ActiveCounts.Count, streamed.Layers.Count);
        if (layers is null) Fixtures.AssertCounts(reference, streamed);
        else if (reference.IsExact)
            for (int l = 0; l < streamed.Layers.Count; l++) Assert.Equal(reference.ActiveCounts[l], streamed.ActiveCounts(l).ToArray());
    }

    [Fact]
    public void NarrowerResidual_IsPartOfTheJob_AndOnlyNudgesTheCounts()
    {
        using var dir = new TempDirectory();
        var checkpoint = Checkpoint.Open(Generated(dir.Path));
        var sequences = Sequences(14, 96, 24);
        var engine = new LayerStreamedEngine(checkpoint, torch.CPU, torch.ScalarType.Float32,
            new StreamingOptions { Residual = ResidualPlace.Disk, ResidualDtype = torch.ScalarType.BFloat16, SpillDirectory = dir.Sub("spill") });
        var rounded = NeuronCapture.Run(engine, sequences, Settings(), Source(checkpoint));
        var exact = NeuronCapture.Run(new LayerStreamedEngine(checkpoint, torch.CPU, torch.ScalarType.Float32), sequences, Settings(), Source(checkpoint));

        Assert.Equal(exact.TokenCount, rounded.TokenCount);
        double a = exact.ActiveCountsFlat.Sum(), b = rounded.ActiveCountsFlat.Sum();
        Assert.InRange(Math.Abs(a - b) / a, 0, 0.05);
        var job = CaptureJob.For(engine, sequences, Settings().Resolve(engine.Config, sequences), Source(checkpoint), ShardSpec.Whole);
        Assert.Equal(("float32", "bfloat16"), (job.Dtype, job.ResidualDtype));
    }
}
