using System.Runtime.InteropServices;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Runtime;

/// <summary>Which failures are the user's to fix, and how an allocation failure reads in one line.</summary>
public class UserErrorsTests
{
    [Fact]
    public void LibtorchsAllocationFailure_IsOutOfMemory_InOneLine()
    {
        // 2^60 bytes: beyond any machine's address space, so the allocator refuses it whatever the overcommit policy.
        var e = Assert.ThrowsAny<ExternalException>(() => empty(1L << 58, dtype: ScalarType.Float32));
        Assert.True(UserErrors.IsOutOfMemory(e));
        Assert.Contains("\n", e.Message);   // TorchSharp's message carries the native stack frames …
        Assert.Equal("out of memory: DefaultCPUAllocator: can't allocate memory: you tried to allocate 1152921504606846976 bytes. " +
                     "Error code 12 (Cannot allocate memory)", UserErrors.OutOfMemory(e));   // … which the line leaves out
    }

    [Fact]
    public void CudasOutOfMemory_KeepsItsOwnWords()
    {
        var e = new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB of which 1.06 GiB is free.\n" +
                                      "frame #0: c10::OutOfMemoryError ...");
        Assert.True(UserErrors.IsOutOfMemory(e));
        Assert.Equal("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB of which 1.06 GiB is free.",
                     UserErrors.OutOfMemory(e));
        Assert.True(UserErrors.IsOutOfMemory(new OutOfMemoryException()));
    }

    [Fact]
    public void OtherNativeErrors_AreNotOutOfMemory_NorTheUsersToFix()
    {
        using var a = zeros(2, 3);
        var e = Assert.ThrowsAny<ExternalException>(() => a.reshape(7));
        Assert.False(UserErrors.IsOutOfMemory(e));
        Assert.False(UserErrors.IsUsersToFix(e));
    }
}
