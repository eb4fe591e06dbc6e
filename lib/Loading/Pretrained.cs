using OptNeurons.Hub;
using OptNeurons.Model;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>Builds an <see cref="OptForCausalLM"/> from a local HuggingFace snapshot folder, strictly.</summary>
public static class Pretrained
{
    /// <summary>
    /// A local folder for <paramref name="modelOrId"/>: the folder itself, or, for a hub id such as
    /// <c>facebook/opt-125m</c>, its snapshot in the shared HuggingFace cache (downloaded when missing). The revision is
    /// the snapshot's commit for hub models, null for local folders.
    /// </summary>
    public static (string Directory, string? Revision) Locate(string modelOrId, HubOptions? hub = null)
    {
        if (!HubRepo.IsHubId(modelOrId)) return (modelOrId, null);
        string snapshot;
        try { snapshot = HubSnapshot.Ensure(modelOrId, hub ?? new HubOptions { Progress = new ConsoleDownloadProgress() }); }
        catch (HubException e) when (e.Kind is HubErrorKind.NotCached or HubErrorKind.RepositoryNotFound)
        {
            // "m/opt-tiny" reads as a hub id and as a relative path: say that neither was found.
            throw new HubException(e.Kind, $"{e.Message} Nor is there a local folder {Path.GetFullPath(modelOrId)}.", e) { StatusCode = e.StatusCode };
        }
        return (snapshot, Path.GetFileName(Path.TrimEndingDirectorySeparator(snapshot)));
    }

    /// <param name="directory">A snapshot folder: config.json plus weights in any HF layout.</param>
    /// <param name="device">"auto" (CUDA when available), "cpu", "cuda", "cuda:1", …</param>
    /// <param name="dtype">"auto" (storage dtype on CUDA, float32 on CPU), "float32", "bfloat16" or "float16".</param>
    public static OptForCausalLM Load(string directory, string? device = "auto", string? dtype = "auto")
    {
        TorchRuntime.Initialize();
        var checkpoint = Checkpoint.Open(directory);
        var target = TorchRuntime.ResolveDevice(device);
        var storage = TorchRuntime.ParseDtype(checkpoint.Config.StorageDtype, $"{directory}/config.json");
        var compute = TorchRuntime.ResolveDtype(dtype, storage, target);
        CheckpointLoader.CheckShapes(checkpoint);
        var model = new OptForCausalLM(checkpoint.Config, target, compute);
        try { CheckpointLoader.Load(model, checkpoint); }
        catch { model.Dispose(); throw; }
        return model;
    }
}
