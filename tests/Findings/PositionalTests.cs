using OptNeurons.Findings;

namespace OptNeurons.Tests.Findings;

public class PositionalTests
{
    const int Sequences = 40, T = 40;

    // 40 full-length sequences of 40 tokens; neurons depend on position p and sequence index s only.
    static bool Fires(int neuron, int s, int p) => neuron switch
    {
        0 => p / 5 % 2 == 1,                                       // perfect oscillator: 4 bands of 5
        1 => p < 10,                                               // "less than position 10"
        2 => p >= 20 && s < 20,                                    // 0 up to 19, then 0.5: one extreme
        3 => s < (p < 20 ? 12 : 28),                               // step 0.3 → 0.7: other, weak (thick)
        4 => s < Math.Clamp(10 + 2 * (p - 15), 10, 30),            // 0.25, smooth ramp, 0.75: other, strong (thin)
        5 => s < (p / 5 % 2 == 1 ? 36 : 4),                        // bands at 0.9 and 0.1: weak oscillatory
        6 => p is >= 10 and < 30,                                  // plateau: 0, 1, 0 → both extremes
        7 => s < 20 || (s == 20 && p < 20),                        // nearly constant: MI below 0.05
        _ => false,                                                // 8: dead
    };

    static ModelStats Model() => HandStats.Model(HandStats.Capture(
        Enumerable.Range(0, Sequences).Select(_ => Enumerable.Repeat(5L, T).ToArray()).ToArray(), 9, (_, n, s, p, _) => Fires(n, s, p)));

    static double H(double p) => -p * Math.Log(p) - (1 - p) * Math.Log(1 - p);

    [Fact]
    public void MutualInformation_MatchesTheFormula_InNatsAndBits()
    {
        var model = Model();
        var mi = PositionalNeurons.MutualInformation(model, 0);
        Assert.Equal(Math.Log(2), mi[0], 12);                               // deterministic: I = H(act) = H(0.5)
        Assert.Equal(H(0.25), mi[1], 12);
        Assert.Equal(0.5 * Math.Log(1 / 0.75) + 0.5 * (0.5 * Math.Log(2) + 0.5 * Math.Log(0.5 / 0.75)), mi[2], 12);
        Assert.Equal(Math.Log(2) - H(0.3), mi[3], 12);
        Assert.Equal(0.0, mi[8]);
        Assert.True(mi[7] is > 0 and < 0.05, $"{mi[7]}");
        var bits = PositionalNeurons.MutualInformation(model, 0, new PositionalOptions { LogBase = 2 });
        Assert.Equal(1.0, bits[0], 12);
    }

    [Fact]
    public void MutualInformation_UsesEmpiricalPositionWeights_ForShortSequences()
    {
        // Lengths 2, 4, 4: tokens per position 3, 3, 2, 2; the neuron fires from position 2 on, so I = H(4/10).
        var stats = HandStats.Capture([[2, 5], [2, 5, 5, 5], [2, 5, 5, 5]], 1, (_, _, _, p, _) => p >= 2);
        Assert.Equal(H(0.4), PositionalNeurons.MutualInformation(HandStats.Model(stats), 0)[0], 12);
    }

    [Fact]
    public void Find_ClassifiesEachPattern()
    {
        var found = PositionalNeurons.Find(Model()).ToDictionary(p => p.Neuron, p => (p.Type, p.Strong));
        Assert.Equal(new Dictionary<int, (PatternType, bool)>
        {
            [0] = (PatternType.Oscillatory, true),
            [1] = (PatternType.BothExtremes, true),
            [2] = (PatternType.OneExtreme, true),
            [3] = (PatternType.Other, false),
            [4] = (PatternType.Other, true),
            [5] = (PatternType.Oscillatory, false),
            [6] = (PatternType.BothExtremes, true),
        }, found);
        var rows = PositionalNeurons.PerLayer(Model(), PositionalNeurons.Find(Model()));
        Assert.Equal(8, rows.Count);
        Assert.Equal(2, rows.Single(r => r.Type == PatternType.BothExtremes && r.Strong).Neurons);
        Assert.Equal(0.25, PositionalNeurons.Find(Model()).Single(p => p.Neuron == 1).Frequency);
    }

    [Fact]
    public void Curve_And_Visits_FollowTheRules()
    {
        var curve = PositionalNeurons.Curve(Model(), 0, 2);
        Assert.Equal(Enumerable.Range(0, T), curve.Positions);
        Assert.Equal([.. Enumerable.Repeat(0.0, 20), .. Enumerable.Repeat(0.5, 20)], curve.Frequencies);
        var rules = new PatternRules();
        Assert.Equal([false, true, false, true, false, true, false, true], PositionPatterns.Visits(PositionalNeurons.Curve(Model(), 0, 0).Frequencies, 0.01, rules));
        // A one-position spike is not a range: with MinRunPositions 2 it is ignored.
        Assert.Equal([false], PositionPatterns.Visits([0, 0, 1, 0, 0], 0.01, rules));
        Assert.Equal((PatternType.OneExtreme, true), PositionPatterns.Classify([0, 0, 1, 0, 0]));
        Assert.Equal(0.0, PositionPatterns.Roughness([0.1, 0.2, 0.3, 0.4]), 12);
    }

    [Fact]
    public void Team_TilesAllPositions_AndFindsRedundantMembers()
    {
        // Period 8, width 2, shifts 0, 2, 4, 6 over 16 positions; neuron 4 repeats neuron 0; neuron 5 is "less than 8".
        var stats = HandStats.Capture([Enumerable.Repeat(5L, 16).ToArray()], 6,
            (_, n, _, p, _) => n == 5 ? p < 8 : ((p - 2 * (n % 4)) % 8 + 8) % 8 < 2);
        var team = OscillatoryTeams.Of(HandStats.Model(stats), 0);
        Assert.Equal([0, 1, 2, 3, 4], team.Members.Select(m => m.Neuron));
        Assert.Equal([new(0, 1), new PositionRange(8, 9)], team.Members[0].ActiveRanges);
        Assert.Equal([new(6, 7), new PositionRange(14, 15)], team.Members[3].ActiveRanges);
        Assert.True(team.CoversAllPositions);
        Assert.Equal((16, 0), (team.Positions, team.UncoveredPositions));
        Assert.Equal([0, 4], team.Redundant);
    }

    [Fact]
    public void ExcludeFirstPosition_DropsPositionZero()
    {
        var curve = PositionalNeurons.Curve(Model(), 0, 1, new PositionalOptions { ExcludeFirstPosition = true });
        Assert.Equal(Enumerable.Range(1, T - 1), curve.Positions);
        Assert.Equal(H(9.0 / 39), PositionalNeurons.MutualInformation(Model(), 0, new PositionalOptions { ExcludeFirstPosition = true })[1], 12);
    }
}
