namespace OptNeurons.Cli;

static partial class CaptureCommand
{
    public const string Help = """
        usage: optneurons capture --model DIR --out DIR (--text FILE... | --json FILE | --data NAME) [options]

          --model DIR|ID       HuggingFace snapshot folder (config.json + weights; vocab.json + merges.txt for --text),
                               or a hub id such as facebook/opt-125m (downloaded into the shared HF cache)
          --revision REV       hub branch, tag or commit (default main)
          --text FILE...       plain-text documents; each is tokenized (</s> first) and cut into --max-length windows
          --json FILE          pre-tokenized {"input_ids": [[...]], "attention_mask": [[...]]} (mask optional)
          --data NAME          a named corpus: sdk-docs (offline: the .NET SDK's API docs, analysis part) or a paper
                               recipe (paper-section3, paper-section4, paper-section5; downloaded from the hub),
                               sampled with --seed (default 0) and packed into --max-length sequences, </s> first
          --tokens N           tokens to sample from --data (default: all of sdk-docs, or the recipe's own budget;
                               a smaller budget keeps the recipe's shares)
          --full-length        keep only full --max-length sequences (every position equally often: positional analysis)
          --out DIR            output folder: stats.safetensors + manifest.json + capture.json (+ activations/logits)
          --batch-size N       sequences per forward pass (default 8, or chosen by --memory-budget)
          --max-length N       tokens per sequence, and positions tracked (default: max_position_embeddings)
          --layers K           capture only the first K layers; later layers are not computed (default: all)
          --dtype D            auto | float32 | bfloat16 | float16 (default auto: float32 on CPU, storage dtype on CUDA)
          --device D           auto | cpu | cuda | cuda:N (default auto)
          --padding SIDE       right | left (default right; results do not depend on it)
          --exclude-bos        do not count the first position (the </s> token) anywhere
          --sketch-capacity K  n-gram summary entries per neuron and order (default 128)
          --no-positions       skip per-position counts (saves L x T x F int32)
          --ngram-orders LIST  n-gram orders whose trigger summaries are kept: 1,2,3 (default), a subset, or none
                               (the costliest statistics, kept on the host on a CPU and in device memory on a
                               GPU; `none` where only the exact counts are needed)
          --seed N             recorded in the manifest (the seed that chose the data, if any)
          --activations        also write activations.safetensors: every captured layer's neurons for the whole input
          --logits             also write logits.safetensors

        large models, long runs, many machines (docs/scaling.md):
          --streamed           load one layer at a time: embeddings, then each layer for a whole chunk of sequences
          --memory-budget B    e.g. 16GB or 60GiB: picks --batch-size and --chunk-size for --streamed (a
                               --batch-size given keeps it; the batch size is part of the job, see below)
          --chunk-size N       sequences per chunk (a multiple of the batch size): the unit of streaming and of resume
                               (default: one batch; with --streamed, the whole input unless --memory-budget picks one)
          --residual PLACE     device | host | disk: where --streamed keeps a chunk's residual stream (default device)
          --spill DIR          folder of the disk residual (implies --residual disk)
          --residual-dtype D   float32 | bfloat16 | float16 (default: the compute dtype, which is bit-exact)
          --shard i/n          count only the i-th of n contiguous blocks of sequences; merge with optneurons merge
          --restart            discard a partial run in --out instead of resuming it (resuming is automatic)

          A run saves its state after a chunk, five seconds or more after the last save (longer where saving is slow:
          at most a twentieth of the run), and a killed run rerun with the same command resumes from there. What decides the
          numbers (model, data, batch size, dtype, options, shard) must stay the same to resume; chunk size and engine
          may change.
        """;
}
