using System.Security.Cryptography;
using System.Text;

namespace OptNeurons.Tests.Hub;

/// <summary>A file in a mock repo: small ones are plain git blobs (etag = git SHA-1), LFS ones have etag = SHA-256.</summary>
public sealed record MockFile(byte[] Content, bool Lfs)
{
    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Content));

    /// <summary>Git's blob id: sha1("blob {size}\0" + content), which the Hub sends as a plain file's ETag.</summary>
    public string GitSha1 => Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {Content.Length}\0"), .. Content]));

    public string Etag => Lfs ? Sha256 : GitSha1;
}

/// <summary>A repo with named revisions (branches, tags, refs/convert/parquet) pointing at commits, each a file map.</summary>
public sealed class MockRepo(string kind, string id)
{
    public string Kind => kind;   // "models" or "datasets"
    public string Id => id;
    public string Prefix => kind == "models" ? "" : "datasets/";
    public Dictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Dictionary<string, MockFile>> Commits { get; } = new(StringComparer.Ordinal);

    public string Commit(string revision) => Refs.TryGetValue(revision, out var c) ? c : revision;
    public MockFile File(string revision, string path) => Commits[Commit(revision)][path];

    /// <summary>Adds a commit (named by a hash of its label) and points the given revisions at it.</summary>
    public string AddCommit(string label, Dictionary<string, MockFile> files, params string[] revisions)
    {
        var commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"{id}@{label}")));
        Commits[commit] = files;
        foreach (var r in revisions) Refs[r] = commit;
        return commit;
    }

    public static MockFile Small(string text) => new(Encoding.UTF8.GetBytes(text), Lfs: false);

    /// <summary>Seeded pseudo-random bytes: a weights-like body that any cut or flipped byte changes the hash of.</summary>
    public static MockFile Large(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return new MockFile(bytes, Lfs: true);
    }

    /// <summary>
    /// facebook/opt-125m with main (safetensors and .bin, plus files a checkpoint does not need) and an older tag v1.0
    /// (only .bin, another config.json), and a dataset with a Parquet shard on refs/convert/parquet.
    /// </summary>
    public static (MockRepo Model, MockRepo Dataset) Standard()
    {
        var bin = Large(50_000, seed: 2);
        var merges = Small("#version: 0.2\nĠ t\nĠ a\n");
        var model = new MockRepo("models", "facebook/opt-125m");
        model.AddCommit("v1.0", new()
        {
            ["config.json"] = Small("""{"model_type": "opt", "hidden_size": 768, "_name_or_path": "v1.0"}"""),
            ["merges.txt"] = merges,
            ["pytorch_model.bin"] = bin,
        }, "v1.0");
        model.AddCommit("main", new()
        {
            [".gitattributes"] = Small("*.bin filter=lfs diff=lfs merge=lfs -text\n"),
            ["README.md"] = Small("# OPT 125m (mock)\n"),
            ["config.json"] = Small("""{"model_type": "opt", "hidden_size": 768, "num_hidden_layers": 12}"""),
            ["generation_config.json"] = Small("""{"bos_token_id": 2}"""),
            ["merges.txt"] = merges,
            ["vocab.json"] = Small("""{"</s>": 2, "Ġt": 3}"""),
            ["model.safetensors"] = Large(300_000, seed: 1),
            ["pytorch_model.bin"] = bin,
            ["tf_model.h5"] = Large(20_000, seed: 3),
        }, "main");

        var dataset = new MockRepo("datasets", "test-org/tiny-pile");
        dataset.AddCommit("main", new() { ["README.md"] = Small("# tiny pile\n"), ["val.jsonl"] = Small("{\"text\": \"a\"}\n") }, "main");
        dataset.AddCommit("parquet", new() { ["default/validation/0000.parquet"] = Large(40_000, seed: 4) }, "refs/convert/parquet");
        return (model, dataset);
    }
}
