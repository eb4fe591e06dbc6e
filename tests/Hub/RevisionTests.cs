using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>Branches, tags and commits each pin the content they name; errors name the revision or file.</summary>
public sealed class RevisionTests : IDisposable
{
    readonly HubTestContext t = new();
    public void Dispose() => t.Dispose();

    [Fact]
    public void Tag_GivesThatCommitsFiles_AndItsOwnRef()
    {
        var (main, v1) = (t.Hub.Model.Refs["main"], t.Hub.Model.Refs["v1.0"]);

        var old = HubFile.Download("facebook/opt-125m", "config.json", t.Options("v1.0"));
        var current = HubFile.Download("facebook/opt-125m", "config.json", t.Options());

        Assert.Contains("\"_name_or_path\": \"v1.0\"", File.ReadAllText(old));
        Assert.DoesNotContain("v1.0", File.ReadAllText(current), StringComparison.Ordinal);
        Assert.Equal(Path.Combine(t.RepoDir(t.Hub.Model), "snapshots", v1, "config.json"), old);
        Assert.Equal(v1, File.ReadAllText(Path.Combine(t.RepoDir(t.Hub.Model), "refs", "v1.0")));
        Assert.Equal(main, File.ReadAllText(Path.Combine(t.RepoDir(t.Hub.Model), "refs", "main")));
    }

    [Fact]
    public void TagWithoutSafetensors_GetsTheBinWeights_SharingTheBlobWithMain()
    {
        var v1Dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options("v1.0"));
        HubSnapshot.Ensure("facebook/opt-125m", t.Options(), new SnapshotFilter(["*.bin"], PreferSafetensors: false));

        var bin = t.Hub.Model.File("v1.0", "pytorch_model.bin");
        Assert.Equal(["config.json", "merges.txt", "pytorch_model.bin"], Directory.GetFiles(v1Dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // The same content at two commits is one blob, downloaded once.
        Assert.Single(t.CdnRequests, r => r.Path == $"/cdn/{bin.Sha256}");
        Assert.Equal($"../../blobs/{bin.Sha256}", new FileInfo(Path.Combine(t.RepoDir(t.Hub.Model), "snapshots", t.Hub.Model.Refs["main"], "pytorch_model.bin")).LinkTarget);
    }

    [Fact]
    public void FullCommitHash_IsUsedAsIs_WithoutAnyRef()
    {
        var v1 = t.Hub.Model.Refs["v1.0"];

        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options(v1));

        Assert.EndsWith(v1, dir, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(t.RepoDir(t.Hub.Model), "refs")));
        Assert.DoesNotContain(t.Hub.Requests, r => r.Path.Contains("/revision/", StringComparison.Ordinal));
        Assert.Contains(t.Hub.Requests, r => r.Method == "HEAD" && r.Target == $"/facebook/opt-125m/resolve/{v1}/config.json");
    }

    [Fact]
    public void PullRequestRevision_IsEncodedAsOneSegment()
    {
        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "config.json", t.Options("refs/pr/31")));

        Assert.Equal(HubErrorKind.RevisionNotFound, e.Kind);
        Assert.Contains("Revision 'refs/pr/31' not found in facebook/opt-125m", e.Message);
        Assert.Equal("/facebook/opt-125m/resolve/refs%2Fpr%2F31/config.json", Assert.Single(t.Hub.Requests).Target);
    }

    [Fact]
    public void MissingFile_IsEntryNotFound_AndRecordedInNoExist()
    {
        var main = t.Hub.Model.Refs["main"];

        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "model.safetensors.index.json", t.Options()));

        Assert.Equal(HubErrorKind.EntryNotFound, e.Kind);
        Assert.Contains("'model.safetensors.index.json' not found in facebook/opt-125m at revision 'main'", e.Message);
        Assert.Equal(0, new FileInfo(Path.Combine(t.RepoDir(t.Hub.Model), ".no_exist", main, "model.safetensors.index.json")).Length);
        Assert.Equal(main, File.ReadAllText(Path.Combine(t.RepoDir(t.Hub.Model), "refs", "main")));
    }
}
