using System.Security.Cryptography;
using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>Broken bodies resume with Range from the bytes on disk; corrupt bodies are caught by their SHA-256.</summary>
public sealed class ResumeTests : IDisposable
{
    readonly HubTestContext t = new();
    public void Dispose() => t.Dispose();

    MockFile Weights => t.Hub.Model.File("main", "model.safetensors");
    string Blobs => Path.Combine(t.RepoDir(t.Hub.Model), "blobs");

    [Fact]
    public void DroppedConnection_IsResumedWithRangeFromTheBytesReceived()
    {
        t.Hub.DropAfter(100_000);

        var path = HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options());

        Assert.Equal(Weights.Content, File.ReadAllBytes(path));
        var cdn = t.CdnRequests;
        Assert.Equal(2, cdn.Count);
        Assert.Null(cdn[0].Header("range"));
        Assert.Equal("bytes=100000-", cdn[1].Header("range"));
        Assert.Empty(Directory.GetFiles(Blobs, "*.incomplete"));
    }

    [Fact]
    public void PartialFileFromAnEarlierRun_IsResumed()
    {
        Directory.CreateDirectory(Blobs);
        File.WriteAllBytes(Path.Combine(Blobs, Weights.Sha256 + ".incomplete"), Weights.Content[..120_000]);

        var path = HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options());

        Assert.Equal(Weights.Content, File.ReadAllBytes(path));
        Assert.Equal(["bytes=120000-"], t.CdnRequests.Select(r => r.Header("range")));
        Assert.False(File.Exists(Path.Combine(Blobs, Weights.Sha256 + ".incomplete")));
    }

    [Fact]
    public void ServerIgnoringRange_RestartsFromZero()
    {
        Directory.CreateDirectory(Blobs);
        // Wrong bytes in the partial file: only a true restart (not an append after them) gives the right hash.
        File.WriteAllBytes(Path.Combine(Blobs, Weights.Sha256 + ".incomplete"), new byte[120_000]);
        t.Hub.IgnoreRange = true;

        var path = HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options());

        Assert.Equal(Weights.Content, File.ReadAllBytes(path));
        Assert.Equal("bytes=120000-", Assert.Single(t.CdnRequests).Header("range"));
    }

    [Fact]
    public void CorruptBody_IsDetectedDeletedAndReportedWithBothHashes()
    {
        t.Hub.CorruptLfs = true;
        var corrupt = Weights.Content.ToArray();
        corrupt[corrupt.Length / 2] ^= 0xFF;
        var actual = Convert.ToHexStringLower(SHA256.HashData(corrupt));

        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options()));

        Assert.Equal(HubErrorKind.Integrity, e.Kind);
        Assert.Contains("'model.safetensors' of facebook/opt-125m", e.Message);
        Assert.Contains($"expected {Weights.Sha256}, got {actual}", e.Message);
        Assert.Contains("deleted", e.Message);
        Assert.Empty(Directory.GetFiles(Blobs));
        Assert.False(Directory.Exists(Path.Combine(t.RepoDir(t.Hub.Model), "snapshots")));

        t.Hub.CorruptLfs = false;   // and the next run fetches it anew, from byte 0
        t.Hub.ClearRequests();
        Assert.Equal(Weights.Content, File.ReadAllBytes(HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options())));
        Assert.Null(Assert.Single(t.CdnRequests).Header("range"));
    }

    [Fact]
    public void EveryAttemptCut_GivesUpAfterFiveIdleTries_AndKeepsThePartialFile()
    {
        t.Hub.DropAfter(0, times: 100);   // every CDN body closes before its first byte

        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options()));

        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Contains("stalled at 0 of 300000 bytes", e.Message);
        Assert.Equal(5, t.CdnRequests.Count);
        Assert.True(File.Exists(Path.Combine(Blobs, Weights.Sha256 + ".incomplete")));
    }

    [Fact]
    public void WholeFileAlreadyOnDisk_AsIncomplete_IsVerifiedAndMovedWithoutAGet()
    {
        Directory.CreateDirectory(Blobs);
        File.WriteAllBytes(Path.Combine(Blobs, Weights.Sha256 + ".incomplete"), Weights.Content);

        var path = HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options());

        Assert.Equal(Weights.Content, File.ReadAllBytes(path));
        Assert.Empty(t.CdnRequests);
    }

    [Fact]
    public void PartialFileLongerThanTheFile_IsDiscarded_AndFetchedFromZero()
    {
        Directory.CreateDirectory(Blobs);
        File.WriteAllBytes(Path.Combine(Blobs, Weights.Sha256 + ".incomplete"), new byte[400_000]);

        var path = HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options());

        Assert.Equal(Weights.Content, File.ReadAllBytes(path));
        Assert.Null(Assert.Single(t.CdnRequests).Header("range"));
    }
}
