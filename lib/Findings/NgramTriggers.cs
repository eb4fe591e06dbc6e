using OptNeurons.Stats;

namespace OptNeurons.Findings;

/// <summary>
/// One n-gram's trigger count for one neuron, as bounds: the Misra–Gries summary stores a count that is at most the
/// true one (<see cref="Lower"/>); the true one is at most <see cref="Upper"/> = min(stored + sketch error, occurrences).
/// The n-gram occurred between <see cref="OccurrencesLower"/> and <see cref="Occurrences"/> times; the two differ only
/// for an n-gram that starts with a separator &lt;/s&gt; when position 0 is left out of statistics that counted it,
/// since how many of its occurrences started at position 0 is not recorded.
/// </summary>
internal readonly record struct Trigger(long Key, long Lower, long Upper, long Occurrences, long OccurrencesLower)
{
    /// <summary>An n-gram whose occurrences are known exactly.</summary>
    public Trigger(long key, long lower, long upper, long occurrences) : this(key, lower, upper, occurrences, occurrences) { }
}

/// <summary>
/// A neuron's counted n-gram triggers (by Lower descending, then key ascending), the summary's error bound (any n-gram
/// not listed triggered it at most Error times) and its exact number of activations that have an n-gram.
/// </summary>
internal sealed record NeuronTriggers(IReadOnlyList<Trigger> Triggers, long Error, long Activations);

/// <summary>
/// Reads the n-gram triggers of every neuron under <see cref="TriggerCounting"/>. An n-gram of order n exists at
/// position p when p − n + 1 is a used position, so a neuron's activations with an n-gram are its exact active counts at
/// positions ≥ first used + n − 1. Leaving out position 0 from statistics that counted it subtracts, exactly, position
/// 0's counts from the BOS unigram. For n ≥ 2, when BOS appears only at position 0, every BOS-initial n-gram starts
/// there and is dropped, exactly. When BOS also separates documents (concatenated packing), a BOS-initial n-gram's
/// stored count mixes the two, and only their sum over n-grams is known: the neuron's exact active count at position
/// n − 1, Z. Each such n-gram then gets the bounds [max(0, stored − Z), upper], sound for any split of Z, and the
/// coverage and detector steps, which work on bounds, stay correct (and say "undetermined" or "undecided" where the
/// split matters). Position 0 must hold BOS in every sequence; that is checked as far as the counts allow.
/// </summary>
internal sealed class NgramTriggers
{
    readonly NeuronStats stats;
    readonly int n, from, bos;
    readonly bool subtractFirst, bosElsewhere;

    NgramTriggers(NeuronStats stats, int n, int from, bool subtractFirst, bool bosElsewhere, int bos) =>
        (this.stats, this.n, this.from, this.subtractFirst, this.bosElsewhere, this.bos) = (stats, n, from, subtractFirst, bosElsewhere, bos);

    public bool FirstPositionCounted => from == 0;

    public static NgramTriggers For(NeuronStats s, int n, TriggerCounting counting)
    {
        if (!s.Options.NgramOrders.Contains(n))
            throw new ArgumentException($"n = {n}: these statistics track n-gram orders [{string.Join(", ", s.Options.NgramOrders)}] only.");
        int first = CountedPositions.FirstUsed(s, counting.ExcludeFirstPosition);
        bool subtract = first > CountedPositions.FirstCounted(s);
        if (subtract || first + n - 1 > CountedPositions.FirstCounted(s))
            if (!s.Options.TrackPositions)
                throw new InvalidOperationException($"Counting {n}-gram activations needs per-position counts (positions before {first + n - 1} " +
                                                    "have no n-gram), but these statistics were captured with TrackPositions = false.");
        bool bosElsewhere = subtract && BosOccursElsewhere(s, counting.BosTokenId);
        return new NgramTriggers(s, n, first, subtract, bosElsewhere, counting.BosTokenId);
    }

    /// <summary>Checks that position 0 always holds BOS; true when BOS occurs after position 0 too.</summary>
    static bool BosOccursElsewhere(NeuronStats s, int bos)
    {
        const string Advice = "Capture with StatsOptions.IncludeFirstPosition = false, or count position 0 (TriggerCounting.ExcludeFirstPosition = false).";
        if (!s.Options.NgramOrders.Contains(1))
            throw new InvalidOperationException($"Cannot check that position 0 always holds BOS (id {bos}): unigrams were not tracked. {Advice}");
        long atZero = s.PositionTokenCounts[0], occurrences = s.Occurrences(1, bos);
        if (occurrences < atZero)
            throw new InvalidOperationException($"BOS id {bos} occurs {occurrences} times but {atZero} sequences have a position 0: " +
                                                $"position 0 does not always hold BOS, so it cannot be subtracted exactly. {Advice}");
        return occurrences > atZero;
    }

    /// <summary>Per neuron of the layer: its exact number of activations that have an n-gram.</summary>
    public long[] Activations(int layer) =>
        CountedPositions.ActiveCounts(stats, layer, from + n - 1, $"Counting {n}-gram activations");

    /// <summary>The neuron's triggers; <paramref name="activations"/> is its entry of <see cref="Activations"/>.</summary>
    public NeuronTriggers Neuron(int layer, int neuron, long activations)
    {
        long error = stats.SketchError(layer, neuron, n);
        // This neuron's exact activations on n-grams that start at position 0 (all of them BOS-initial).
        long atZero = subtractFirst ? stats.PositionActiveCounts(layer)[(n - 1) * stats.FfnDim + neuron] : 0;
        var list = new List<Trigger>();
        foreach (var (key, count) in stats.TopTriggers(layer, neuron, n))
        {
            long occurrences = stats.Occurrences(n, key);
            if (subtractFirst && NgramKey.Unpack(key, n)[0] == bos)
            {
                if (n > 1 && !bosElsewhere) continue;   // every BOS-initial n-gram starts at position 0
                if (n == 1)
                {
                    (long lower, long upper) = (Math.Max(0, count - atZero), Math.Min(count + error, occurrences) - atZero);
                    occurrences -= stats.PositionTokenCounts[0];
                    if (upper > 0) list.Add(new Trigger(key, lower, upper, occurrences));
                }
                // A separator-initial n-gram: how much of its count started at position 0 is unknown (at most atZero),
                // and so are its occurrences there (at most one per sequence that reaches position n − 1).
                else if (Math.Min(count + error, occurrences) > 0)
                {
                    long lower = Math.Max(0, count - atZero);
                    long occurrencesLower = Math.Max(lower, occurrences - stats.PositionTokenCounts[n - 1]);
                    list.Add(new Trigger(key, lower, Math.Min(count + error, occurrences), occurrences, occurrencesLower));
                }
                continue;
            }
            list.Add(new Trigger(key, count, Math.Min(count + error, occurrences), occurrences));
        }
        list.Sort((a, b) => a.Lower != b.Lower ? b.Lower.CompareTo(a.Lower) : a.Key.CompareTo(b.Key));
        if (error == 0 && !(bosElsewhere && n > 1) && list.Sum(t => t.Lower) != activations)
            throw new InvalidDataException($"Layer {layer}, neuron {neuron}: its exact {n}-gram counts sum to {list.Sum(t => t.Lower)}, " +
                                           $"not to its {activations} activations with an n-gram; the statistics are inconsistent.");
        return new NeuronTriggers(list, error, activations);
    }
}
