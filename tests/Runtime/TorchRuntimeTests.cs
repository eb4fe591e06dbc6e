using System.Runtime.InteropServices;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void Initialize_MakesTorchUsable_AndIsIdempotent()
    {
        TorchRuntime.Initialize();
        TorchRuntime.Initialize();
        using var x = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        Assert.Equal(15.0f, x.sum().item<float>());
    }

    /// <summary>
    /// After Initialize, a 32 MiB block comes from the heap, where its pages can serve the next block once it is freed,
    /// not from a mapping of its own that free unmaps (glibc's default for a block this size, whatever the thread).
    /// glibc marks a chunk it mapped on its own in the word before the block (bit 1 of the size, IS_MMAPPED), so the
    /// check does not depend on what other threads allocate meanwhile. Whether the pages are then reused depends on the
    /// thread: see <see cref="TorchRuntime.HeapState"/>.
    /// </summary>
    [Fact]
    public void Initialize_ServesLargeBlocksFromTheHeap()
    {
        TorchRuntime.Initialize();
        if (!OperatingSystem.IsLinux()) return;
        Assert.StartsWith("freed memory kept", TorchRuntime.HeapState);   // CI sets no MALLOC_* variable
        nint block = malloc(32 << 20);
        Assert.NotEqual(0, block);
        bool mapped = (Marshal.ReadInt64(block, -8) & 2) != 0;
        free(block);
        Assert.False(mapped, "A 32 MiB block was mapped on its own: glibc's mmap should be off after Initialize.");
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    public void ResolveDevice_TakesTheCpuInAnyCase_AndADevicesOwnName(string name)
    {
        var cpu = TorchRuntime.ResolveDevice(name);
        Assert.Equal(DeviceType.CPU, cpu.type);
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice(cpu.ToString()).type);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cpu:0:1")]
    public void ResolveDevice_RefusesWhatIsNoDevice_SayingWhatIs(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice(name));
        Assert.Equal($"unknown device '{name}'; expected auto, cpu, cuda or cuda:N (N = 0, 1, …).", error.Message);
    }

    [Fact]
    public void ResolveDevice_RefusesCuda_WhereThereIsNone()
    {
        if (torch.cuda.is_available())
        {
            var error = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice($"cuda:{torch.cuda.device_count()}"));
            Assert.Contains("CUDA device(s), numbered from 0", error.Message);
        }
        else
        {
            var error = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("cuda:0"));
            Assert.Contains("CUDA is not available", error.Message);
        }
    }

    [DllImport("libc")] static extern nint malloc(nint size);
    [DllImport("libc")] static extern void free(nint p);
}
