using OptNeurons.Runtime;
using TorchSharp;

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
}
