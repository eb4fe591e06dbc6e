using System.Runtime.InteropServices;

namespace OptNeurons.Runtime;

/// <summary>
/// Makes glibc's malloc keep freed memory for reuse, so a tensor as large as a layer's activations does not cost fresh
/// pages every time. By default glibc serves each block above 128 KiB – 32 MiB with its own mmap and unmaps it on
/// free; the next batch's tensor of the same size then takes one page fault per 4 KiB, which the kernel also zeroes.
/// On a CPU that makes an elementwise pass over a [4096, 3072] float32 tensor about 6× slower (32 ms instead of 5 ms),
/// and LibTorch allocates such tensors several times per layer. With mmap off and trimming raised, freed blocks stay in
/// the heap and the next allocation of that size reuses their pages; the process keeps its high-water mark instead of
/// returning memory between batches, which a capture reaches again at the next batch anyway. Threads other than the
/// first allocate from heaps of at most 64 MiB: glibc still maps a larger block on its own, and gives a block that
/// does not fit the thread's heap a heap of its own, which it unmaps if freeing the block empties it. LibTorch's small
/// allocations beside its tensors usually keep such heaps alive: on a second thread, relu and a product over a
/// [4096, 3072] tensor took 11–17 ms a step, as on the first thread, against 55–63 ms with glibc's defaults.
/// Applied once per process by <see cref="TorchRuntime.Initialize"/>, on Linux with glibc only, and never over a choice
/// the user made: any MALLOC_* or GLIBC_TUNABLES setting in the environment leaves malloc as configured.
/// </summary>
static class HeapReuse
{
    const int TrimThreshold = -1, MmapMax = -4;   // mallopt parameters, malloc.h

    /// <summary>What was done, for the environment banner: "kept freed memory", or why not.</summary>
    public static string State { get; private set; } = "not applied";

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) { State = "not applied (not Linux)"; return; }
        var userChoice = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .FirstOrDefault(k => k.StartsWith("MALLOC_", StringComparison.Ordinal) || k == "GLIBC_TUNABLES");
        if (userChoice is not null) { State = $"left as configured ({userChoice} is set)"; return; }
        try
        {
            // Both return 1 on success. Trimming keeps up to 1 GiB of free memory at the top of the heap; more than that
            // is still given back, so one unusually large step does not pin its memory for the rest of the run.
            bool ok = mallopt(MmapMax, 0) == 1 & mallopt(TrimThreshold, 1 << 30) == 1;
            State = ok ? "freed memory kept for reuse (glibc: mmap off, trim above 1 GiB)" : "not applied (mallopt refused)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            State = "not applied (no glibc mallopt)";   // musl and other C libraries
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);
}
