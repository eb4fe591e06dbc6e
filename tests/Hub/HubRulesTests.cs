using OptNeurons.Hub;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Hub;

/// <summary>The rules that need no server: ids, URL encoding, environment priorities, file patterns.</summary>
public class HubRulesTests
{
    [Theory]
    [InlineData("facebook/opt-125m", "main", "config.json", "https://hf.test/facebook/opt-125m/resolve/main/config.json")]
    [InlineData("facebook/opt-6.7b", "refs/pr/31", "model-00001-of-00002.safetensors", "https://hf.test/facebook/opt-6.7b/resolve/refs%2Fpr%2F31/model-00001-of-00002.safetensors")]
    [InlineData("datasets/org/set", "refs/convert/parquet", "a b/c+d~e.parquet", "https://hf.test/datasets/org/set/resolve/refs%2Fconvert%2Fparquet/a%20b/c%2Bd~e.parquet")]
    public void ResolveUrl_EncodesRevisionWithoutSafeCharsAndFilePerSegment(string id, string revision, string file, string expected) =>
        Assert.Equal(expected, HubRepo.Parse(id).ResolveUrl("https://hf.test", revision, file).AbsoluteUri);

    [Fact]
    public void RepoNames_FolderAndApiKind()
    {
        Assert.Equal(new HubRepo("facebook/opt-66b", HubRepoType.Model), HubRepo.Parse("facebook/opt-66b"));
        Assert.Equal("models--facebook--opt-66b", HubRepo.Parse("facebook/opt-66b").FolderName);
        Assert.Equal("datasets--EleutherAI--pile_val_test", HubRepo.Parse("datasets/EleutherAI/pile_val_test").FolderName);
        Assert.Equal("models--gpt2", HubRepo.Parse("gpt2").FolderName);
        Assert.Throws<ArgumentException>(() => HubRepo.Parse("facebook/opt--125m"));
        Assert.Throws<ArgumentException>(() => HubRepo.Parse("a/b/c"));
    }

    [Fact]
    public void IsHubId_OrgNameShape_ButNotAnExistingFolder()
    {
        Assert.True(HubRepo.IsHubId("facebook/opt-125m"));
        Assert.True(HubRepo.IsHubId("datasets/codeparrot/codeparrot-clean-valid"));
        Assert.False(HubRepo.IsHubId("gpt2"));
        Assert.False(HubRepo.IsHubId("/abs/path/model"));
        Assert.False(HubRepo.IsHubId("./facebook"));
        var local = $"hubid-{Guid.NewGuid():N}/opt-local";
        Directory.CreateDirectory(local);
        try { Assert.False(HubRepo.IsHubId(local)); }
        finally { Directory.Delete(Path.GetDirectoryName(local)!, recursive: true); }
    }

    [Fact]
    public void IsCommit_OnlyFullLowerCaseHex()
    {
        Assert.True(HubRepo.IsCommit("0123456789abcdef0123456789abcdef01234567"));
        Assert.False(HubRepo.IsCommit("0123456789ABCDEF0123456789abcdef01234567"));
        Assert.False(HubRepo.IsCommit("0123456"));
    }

    static HubSettings Resolve(params (string, string)[] env) => HubSettings.Resolve(new HubOptions { Environment = env.ToDictionary(e => e.Item1, e => e.Item2) });

    [Fact]
    public void CacheDir_FollowsHuggingfaceHubPriorities()
    {
        Assert.Equal("/x/hub-cache", Resolve(("HF_HUB_CACHE", "/x/hub-cache"), ("HUGGINGFACE_HUB_CACHE", "/y"), ("HF_HOME", "/z")).CacheDir);
        Assert.Equal("/y", Resolve(("HUGGINGFACE_HUB_CACHE", "/y"), ("HF_HOME", "/z")).CacheDir);
        Assert.Equal("/z/hub", Resolve(("HF_HOME", "/z"), ("XDG_CACHE_HOME", "/xdg")).CacheDir);
        Assert.Equal("/xdg/huggingface/hub", Resolve(("XDG_CACHE_HOME", "/xdg")).CacheDir);
        Assert.Equal("/home/u/.cache/huggingface/hub", Resolve(("HOME", "/home/u")).CacheDir);
        Assert.Equal("/home/u/data/hub", Resolve(("HOME", "/home/u"), ("ROOT", "/home/u/data"), ("HF_HOME", "${ROOT}/hub"), ("HF_HUB_CACHE", "$ROOT/hub")).CacheDir);
        Assert.Equal("/explicit", HubSettings.Resolve(new HubOptions { CacheDir = "/explicit", Environment = new Dictionary<string, string> { ["HF_HUB_CACHE"] = "/x" } }).CacheDir);
    }

    [Fact]
    public void Token_ExplicitThenVariablesThenFile_AndEndpointAndOffline()
    {
        using var home = new TempDirectory();
        File.WriteAllText(Path.Combine(home.Path, "token"), "  hf_file\r\n");
        Assert.Equal("hf_file", Resolve(("HF_HOME", home.Path)).Token);
        Assert.Equal("hf_old", Resolve(("HF_HOME", home.Path), ("HUGGING_FACE_HUB_TOKEN", "hf_old")).Token);
        Assert.Equal("hf_env", Resolve(("HF_HOME", home.Path), ("HF_TOKEN", "hf_env"), ("HUGGING_FACE_HUB_TOKEN", "hf_old")).Token);
        Assert.Null(Resolve(("HF_HOME", home.Path), ("HF_TOKEN", "hf_env"), ("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")).Token);
        Assert.Null(Resolve(("HF_HOME", home.Path), ("HF_TOKEN_PATH", Path.Combine(home.Path, "none"))).Token);
        Assert.Equal("https://mirror.test", Resolve(("HF_ENDPOINT", "https://mirror.test/")).Endpoint);
        Assert.Equal("https://huggingface.co", Resolve().Endpoint);
        Assert.True(Resolve(("HF_HUB_OFFLINE", "True")).Offline);
        Assert.True(Resolve(("TRANSFORMERS_OFFLINE", "on")).Offline);
        Assert.False(Resolve(("HF_HUB_OFFLINE", "0")).Offline);
    }

    [Theory]
    [InlineData("*.json", "config.json", true)]
    [InlineData("*.json", "sub/dir/tokenizer.json", true)]   // fnmatch's '*' crosses '/'
    [InlineData("data/*.json", "data/x/y.json", true)]
    [InlineData("*.JSON", "config.json", false)]             // case-sensitive
    [InlineData("model-0000?-of-00002.safetensors", "model-00001-of-00002.safetensors", true)]
    [InlineData("[!p]*.bin", "pytorch_model.bin", false)]
    [InlineData("[!p]*.bin", "training_args.bin", true)]
    [InlineData("default/", "default/validation/0000.parquet", true)]   // a trailing '/' means the whole folder
    [InlineData("[.json", "[.json", true)]                  // an unclosed '[' is literal
    public void Patterns_MatchLikeFnmatchcase(string pattern, string path, bool expected) =>
        Assert.Equal(expected, SnapshotFilter.Matches(pattern, path));

    [Fact]
    public void CheckpointFilter_PrefersSafetensorsOverBinPerFolder()
    {
        string[] repo = ["config.json", "pytorch_model.bin", "pytorch_model.bin.index.json", "model.safetensors", "tf_model.h5",
            "flax_model.msgpack", "README.md", "merges.txt", "old/pytorch_model.bin"];
        Assert.Equal(["config.json", "model.safetensors", "merges.txt", "old/pytorch_model.bin"], SnapshotFilter.Checkpoint.Select(repo));
        Assert.Equal(["pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json"],
            SnapshotFilter.Checkpoint.Select(["pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json", "tf_model.h5"]));
        Assert.Equal(["config.json"], new SnapshotFilter(["*"], Ignore: ["*.bin", "*.safetensors", "*.md", "*.h5", "*.msgpack", "*.txt", "*index*"]).Select(repo));
    }
}
