using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace OptNeurons.Hub;

/// <summary>
/// Downloads one blob as huggingface_hub 1.0–1.17 does: into blobs/&lt;etag&gt;.incomplete opened for appending, whose
/// length is the resume offset (Range: bytes=N-), so a 10 GB shard interrupted by a crash or Ctrl-C continues where it
/// stopped on the next run. Within one run, a body that breaks off is re-requested from the bytes already written.
/// Then the size is checked, the SHA-256 of LFS files too (an extra: Python checks only the size), and the file is
/// renamed into place, so blobs/ never holds a partial or corrupt file.
/// </summary>
internal static class BlobDownload
{
    /// <summary>file_download.py::http_get gives up after 5 consecutive attempts that brought no new byte.</summary>
    const int MaxAttemptsWithoutProgress = 5;
    const int ChunkBytes = 1 << 20;

    public static async Task RunAsync(HubSettings s, HubRepo repo, string file, FileMetadata meta, string incomplete, string blob)
    {
        var what = $"'{file}' of {repo} at commit {meta.Commit}";
        using var hash = meta.IsLfs ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var output = new FileStream(incomplete, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, ChunkBytes);
        try
        {
            long done = output.Length;
            if (done > meta.Size) { output.SetLength(0); done = 0; }   // longer than the file: cannot be a prefix of it
            if (hash is not null && done > 0) await HashPrefixAsync(output, done, hash, s.Cancellation).ConfigureAwait(false);
            var progress = new Reporter(s.Progress, repo, file, meta.Size, done);
            progress.Report(done);
            int idle = 0;
            while (done < meta.Size)
            {
                var (received, error) = await FetchAsync(s, meta, what, output, hash, done, progress).ConfigureAwait(false);
                done = output.Length;
                idle = received > 0 ? 0 : idle + 1;
                if (done >= meta.Size) break;
                if (idle >= MaxAttemptsWithoutProgress)
                    throw new HubException(HubErrorKind.Network, $"Downloading {what} stalled at {done} of {meta.Size} bytes after " +
                        $"{idle} attempts ({error?.Message ?? "the body ended early"}). The partial file {incomplete} is kept; run again to resume.", error);
                await HubHttp.BackoffAsync(s, error, Math.Max(idle - 1, 0)).ConfigureAwait(false);   // longer while no byte arrives
            }
            if (done != meta.Size)
                throw Corrupt($"Consistency check failed: {what} should be {meta.Size} bytes but {done} arrived.");
            if (hash is not null && Convert.ToHexStringLower(hash.GetHashAndReset()) is var actual && actual != meta.Etag)
                throw Corrupt($"SHA-256 mismatch for {what}: expected {meta.Etag}, got {actual} ({done} bytes).");
            await output.DisposeAsync().ConfigureAwait(false);
            File.Move(incomplete, blob, overwrite: true);
        }
        finally { await output.DisposeAsync().ConfigureAwait(false); }

        // A corrupt body must not be resumed from: it is deleted, and the error says so.
        HubException Corrupt(string message)
        {
            output.Dispose();
            File.Delete(incomplete);
            return new HubException(HubErrorKind.Integrity, $"{message} The download was deleted; run again to fetch it anew.");
        }
    }

    /// <summary>One GET from offset done; returns the bytes it brought and the error that cut it short, if any.</summary>
    static async Task<(long Received, Exception? Error)> FetchAsync(
        HubSettings s, FileMetadata meta, string what, FileStream output, IncrementalHash? hash, long done, Reporter progress)
    {
        long received = 0;
        try
        {
            using var r = await HubHttp.SendAsync(HttpMethod.Get, meta.Location, s, Redirects.All, s.DownloadTimeout, what, done).ConfigureAwait(false);
            if (!r.IsSuccessStatusCode)
                throw new HubException(HubErrorKind.Http, $"HTTP {(int)r.StatusCode} {r.ReasonPhrase} while downloading {what}.")
                {
                    StatusCode = (int)r.StatusCode, RetryAfter = HubException.RetryAfterOf(r),
                };
            if (done > 0 && r.StatusCode != HttpStatusCode.PartialContent)
            {
                // 200 to a Range request: the server ignored the range (a proxy, gzip) and sends the whole file again.
                output.SetLength(0);
                hash?.GetHashAndReset();
                progress.Restart();
            }
            output.Seek(0, SeekOrigin.End);
            await using var body = await r.Content.ReadAsStreamAsync(s.Cancellation).ConfigureAwait(false);
            using var readDeadline = CancellationTokenSource.CreateLinkedTokenSource(s.Cancellation);
            var buffer = new byte[ChunkBytes];
            progress.Report(output.Length);
            while (true)
            {
                readDeadline.CancelAfter(s.DownloadTimeout);   // HF_HUB_DOWNLOAD_TIMEOUT bounds each read, not the whole file
                int n = await body.ReadAsync(buffer, readDeadline.Token).ConfigureAwait(false);
                if (n == 0) return (received, null);
                await output.WriteAsync(buffer.AsMemory(0, n), s.Cancellation).ConfigureAwait(false);
                hash?.AppendData(buffer, 0, n);
                received += n;
                progress.Report(output.Length);
            }
        }
        catch (Exception e) when (!s.Cancellation.IsCancellationRequested && e is IOException or HttpRequestException or OperationCanceledException
            || e is HubException { IsRetryable: true })
        {
            return (received, e);   // the connection broke or the server was busy: the caller waits and resumes
        }
    }

    static async Task HashPrefixAsync(FileStream file, long length, IncrementalHash hash, CancellationToken cancel)
    {
        file.Seek(0, SeekOrigin.Begin);
        var buffer = new byte[ChunkBytes];
        for (long left = length; left > 0;)
        {
            int n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancel).ConfigureAwait(false);
            if (n == 0) throw new IOException($"{file.Name} shrank while being read.");
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
    }

    /// <summary>Turns byte counts into <see cref="DownloadProgress"/> events on one clock per file.</summary>
    sealed class Reporter(IProgress<DownloadProgress>? sink, HubRepo repo, string file, long total, long resumedFrom)
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        long from = resumedFrom, last = -1;

        public void Restart() => from = 0;

        public void Report(long done)
        {
            if (done == last) return;   // a re-request that has brought nothing new yet is not an event
            last = done;
            sink?.Report(new DownloadProgress(repo.ToString(), file, done, total, from, clock.Elapsed));
        }
    }
}
