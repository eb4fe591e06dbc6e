using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>Gated repos: 401 without a token says what to do; HF_TOKEN or the token file opens them; the CDN never sees it.</summary>
public sealed class AuthTests : IDisposable
{
    readonly HubTestContext t = new();
    public AuthTests() => t.Hub.RequiredToken = "hf_secret";
    public void Dispose() => t.Dispose();

    [Fact]
    public void GatedRepo_WithoutToken_FailsSayingToSetHfTokenAndAcceptTheLicence()
    {
        var e = Assert.Throws<HubException>(() => HubSnapshot.Ensure("facebook/opt-125m", t.Options()));

        Assert.Equal(HubErrorKind.GatedRepo, e.Kind);
        Assert.Equal(401, e.StatusCode);
        Assert.Contains("set HF_TOKEN", e.Message);
        Assert.Contains($"accept the licence at {t.Hub.Url}/facebook/opt-125m", e.Message);
        Assert.Contains("You must have access to it", e.Message);   // the Hub's own words follow
        Assert.All(t.Hub.Requests, r => Assert.Null(r.Header("authorization")));
    }

    [Fact]
    public void GatedRepo_WithHfToken_Downloads_AndTheTokenStaysOffTheCdn()
    {
        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options(env: ("HF_TOKEN", "hf_secret")));

        Assert.Equal(t.Hub.Model.File("main", "model.safetensors").Content, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        var (cdn, hub) = (t.CdnRequests, t.Hub.Requests.Except(t.CdnRequests).ToList());
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Header("authorization")));
        Assert.All(hub, r => Assert.Equal("Bearer hf_secret", r.Header("authorization")));
    }

    [Fact]
    public void TokenFile_InHfHome_IsUsedWhenNoVariableIsSet()
    {
        File.WriteAllText(Path.Combine(t.Home.Path, "token"), "hf_secret\n");

        var path = HubFile.Download("facebook/opt-125m", "config.json", t.Options());

        Assert.Equal(t.Hub.Model.File("main", "config.json").Content, File.ReadAllBytes(path));
    }

    [Fact]
    public void WrongToken_IsRejectedWithTheSameAdvice()
    {
        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "config.json", t.Options(env: ("HF_TOKEN", "hf_wrong"))));

        Assert.Equal(HubErrorKind.AccessDenied, e.Kind);
        Assert.Contains("rejected the token", e.Message);
        Assert.Contains("set HF_TOKEN", e.Message);
    }

    [Fact]
    public void UnknownRepo_IsRepositoryNotFound_NamingTheRepo()
    {
        t.Hub.RequiredToken = null;

        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-999b", "config.json", t.Options()));

        Assert.Equal(HubErrorKind.RepositoryNotFound, e.Kind);
        Assert.Contains("facebook/opt-999b not found", e.Message);
    }
}
