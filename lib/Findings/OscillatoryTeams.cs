namespace OptNeurons.Findings;

/// <summary>Positions Start … End, inclusive.</summary>
public sealed record PositionRange(int Start, int End);

/// <summary>One strongly oscillatory neuron and the position ranges where it is active (fr ≥ TeamActiveFrequency).</summary>
public sealed record TeamMember(int Neuron, double MutualInformation, IReadOnlyList<PositionRange> ActiveRanges);

/// <summary>
/// Fig. 9: the strongly oscillatory neurons of one layer. Together they tile the positions when every used position is
/// active for at least one member. A member is redundant when the others alone are active on all of its active positions
/// ("none of these neurons is redundant"); two identical members are each redundant.
/// </summary>
public sealed record OscillatoryTeam(string Model, int Layer, IReadOnlyList<TeamMember> Members, int Positions,
                                     int UncoveredPositions, IReadOnlyList<int> Redundant)
{
    public bool CoversAllPositions => Members.Count > 0 && UncoveredPositions == 0;
}

public static class OscillatoryTeams
{
    /// <summary>The team of <paramref name="layer"/>: its positional neurons classified oscillatory and strong, by neuron id.</summary>
    public static OscillatoryTeam Of(ModelStats model, int layer, PositionalOptions? options = null)
    {
        options ??= new();
        var used = UsedPositions.Of(model, options);
        var members = PositionalNeurons.Find(model, [layer], options)
            .Where(p => p.Type == PatternType.Oscillatory && p.Strong)
            .Select(p => (p.Neuron, p.MutualInformation, Active: used.Curve(layer, p.Neuron).Frequencies.Select(f => f >= options.TeamActiveFrequency).ToArray()))
            .ToArray();
        int positions = used.Positions.Length;
        var cover = new int[positions];   // how many members are active at each used position
        foreach (var m in members) for (int i = 0; i < positions; i++) if (m.Active[i]) cover[i]++;
        var redundant = members.Where(m => Enumerable.Range(0, positions).All(i => !m.Active[i] || cover[i] > 1)).Select(m => m.Neuron).ToArray();
        return new OscillatoryTeam(model.Model, layer,
            members.Select(m => new TeamMember(m.Neuron, m.MutualInformation, Ranges(used.Positions, m.Active))).ToArray(),
            positions, cover.Count(c => c == 0), redundant);
    }

    /// <summary>Maximal runs of consecutive used positions where the neuron is active.</summary>
    static IReadOnlyList<PositionRange> Ranges(int[] positions, bool[] active)
    {
        var ranges = new List<PositionRange>();
        for (int i = 0; i < positions.Length; i++)
        {
            if (!active[i]) continue;
            int j = i;
            while (j + 1 < positions.Length && active[j + 1] && positions[j + 1] == positions[j] + 1) j++;
            ranges.Add(new PositionRange(positions[i], positions[j]));
            i = j;
        }
        return ranges;
    }
}
