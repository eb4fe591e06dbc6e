// Reference: torch.optim.AdamW (decoupled weight decay, Loshchilov and Hutter 2019), single-tensor path.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using OptNeurons.Runtime;

namespace OptNeurons.Training;

/// <summary>One trained tensor: its state-dict name, the parameter, and whether weight decay applies to it.</summary>
public sealed record TrainedParameter(string Name, Parameter Parameter, bool Decay);

/// <summary>
/// AdamW with moments held by parameter name, so a checkpoint stores them as a safetensors file under the same names
/// as the weights and a resumed run continues bit for bit. Same arithmetic as torch.optim.AdamW:
/// p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε).
/// </summary>
public sealed class NamedAdamW : IDisposable
{
    readonly IReadOnlyList<TrainedParameter> parameters;
    readonly Dictionary<string, (Tensor M, Tensor V)> moments = new(StringComparer.Ordinal);
    readonly double beta1, beta2, weightDecay;
    // The constant factors as Scalars held for the optimizer's life, not made implicitly per call (see Runtime.Scalars).
    readonly Scalar keep1, take1, keep2, take2, epsilon;

    public NamedAdamW(IReadOnlyList<TrainedParameter> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        this.parameters = parameters;
        (this.beta1, this.beta2, this.weightDecay) = (beta1, beta2, weightDecay);
        (keep1, take1, keep2, take2, epsilon) = (beta1.ToScalar(), (1 - beta1).ToScalar(), beta2.ToScalar(), (1 - beta2).ToScalar(), eps.ToScalar());
        foreach (var p in parameters)
            moments[p.Name] = (zeros_like(p.Parameter).DetachFromDisposeScope(), zeros_like(p.Parameter).DetachFromDisposeScope());
    }

    /// <summary>Updates done so far (t in the bias corrections).</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<TrainedParameter> Parameters => parameters;

    public void Step(double lr)
    {
        StepCount++;
        double correction1 = 1 - Math.Pow(beta1, StepCount), correction2 = 1 - Math.Pow(beta2, StepCount);
        using var decay = (1 - lr * weightDecay).ToScalar();
        using var unbias2 = Math.Sqrt(correction2).ToScalar();
        using var stepSize = (-lr / correction1).ToScalar();
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            var grad = p.Parameter.grad;
            if (grad is null) continue;
            using var scope = NewDisposeScope();
            var (m, v) = moments[p.Name];
            if (p.Decay && weightDecay > 0) p.Parameter.mul_(decay);
            m.mul_(keep1).add_(grad, alpha: take1);
            v.mul_(keep2).addcmul_(grad, grad, value: take2);
            var denominator = v.sqrt().div_(unbias2).add_(epsilon, Scalars.One);   // one temporary: the embedding's is tens of MB
            p.Parameter.addcdiv_(m, denominator, value: stepSize);
        }
    }

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();   // each .grad read is a new handle
        foreach (var p in parameters) p.Parameter.grad?.zero_();
    }

    /// <summary>The moments as "exp_avg.NAME" / "exp_avg_sq.NAME" (torch's state names); the tensors are the live ones.</summary>
    public Dictionary<string, Tensor> StateTensors()
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, (m, v)) in moments) { state["exp_avg." + name] = m; state["exp_avg_sq." + name] = v; }
        return state;
    }

    /// <summary>Restores moments and the step count saved by <see cref="StateTensors"/>; every moment must be present with its shape.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount, string source)
    {
        using var noGrad = no_grad();
        foreach (var (name, (m, v)) in moments)
            foreach (var (key, target) in new[] { ("exp_avg." + name, m), ("exp_avg_sq." + name, v) })
            {
                if (!state.TryGetValue(key, out var stored))
                    throw new InvalidDataException($"{source}: optimizer state lacks '{key}'.");
                if (!stored.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{source}: optimizer state '{key}' has shape [{string.Join(", ", stored.shape)}], the model needs [{string.Join(", ", target.shape)}].");
                target.copy_(stored);
            }
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var (m, v) in moments.Values) { m.Dispose(); v.Dispose(); }
        moments.Clear();
        foreach (var held in new[] { keep1, take1, keep2, take2, epsilon }) held.Dispose();
    }
}
