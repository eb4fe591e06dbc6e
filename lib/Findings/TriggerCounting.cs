namespace OptNeurons.Findings;

/// <summary>Which activations the n-gram analyses (coverage, detectors) count.</summary>
public sealed record TriggerCounting
{
    /// <summary>
    /// Leave out every n-gram that includes position 0, where every sequence holds BOS. Default true, after footnote 8:
    /// "We exclude the begin-of-sentence token from these computations because for many neurons, this token is
    /// responsible for the majority of the activations." BOS is the token at position 0; a &lt;/s&gt; later in a
    /// sequence (a document separator of concatenated packing) is an ordinary token.
    /// </summary>
    public bool ExcludeFirstPosition { get; init; } = true;

    /// <summary>The token at position 0 of every sequence: OPT's &lt;/s&gt;, id 2.</summary>
    public int BosTokenId { get; init; } = 2;
}
