using System.Text.Json;
using OptNeurons.Tests.Support;

// usage: StreamMemory DIR LAYERS [HIDDEN=512] [SEQUENCES=64] [LENGTH=128]
// Writes DIR/model (a random OPT checkpoint: d = HIDDEN, ffn = 4d, heads of 64 dimensions as in every OPT, OPT's
// vocabulary of 50272) and
// DIR/sequences.json (seeded random token ids, BOS first), so captures of different depths see identical input.
if (args.Length < 2) { Console.Error.WriteLine("usage: StreamMemory DIR LAYERS [HIDDEN] [SEQUENCES] [LENGTH]"); return 2; }
string dir = args[0];
int layers = int.Parse(args[1]), hidden = Arg(2, 512), count = Arg(3, 64), length = Arg(4, 128);
if (hidden % 64 != 0) { Console.Error.WriteLine($"HIDDEN must be a multiple of 64 (OPT's head size), not {hidden}"); return 2; }
var config = SyntheticWeights.TinyConfig() with
{
    NumHiddenLayers = layers, HiddenSize = hidden, FfnDim = 4 * hidden, NumAttentionHeads = hidden / 64, VocabSize = 50272, MaxPositionEmbeddings = 2048,
};
var weights = SyntheticWeights.Create(config, seed: 1);
CheckpointWriter.Write(Path.Combine(dir, "model"), weights, config);
foreach (var t in weights.Values) t.Dispose();
var rng = new Random(2);
var ids = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(i => i == 0 ? 2L : rng.Next(3, 50265)).ToArray()).ToArray();
File.WriteAllText(Path.Combine(dir, "sequences.json"), JsonSerializer.Serialize(new { input_ids = ids }));
Console.WriteLine($"{dir}: {layers} layers, d = {hidden}, {count} sequences of {length} tokens");
return 0;

int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;
