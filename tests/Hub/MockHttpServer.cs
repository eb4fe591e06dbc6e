using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OptNeurons.Tests.Hub;

/// <summary>A request as the server saw it: the raw target (with %2F still encoded), the Host, every header.</summary>
public sealed record SeenRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Target.Split('?')[0];
    public string Query => Target.Contains('?', StringComparison.Ordinal) ? Target[(Target.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
    public string Host => Header("host") ?? "";
    public override string ToString() => $"{Method} {Host}{Target}";
}

/// <summary>A reply. DropAfter: send only that many body bytes, then close the connection although more were announced.</summary>
public sealed record MockReply(int Status, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body, int? DropAfter = null)
{
    public static MockReply Text(int status, string body, params (string, string)[] headers) => new(status, headers, Encoding.UTF8.GetBytes(body));
}

/// <summary>
/// A bare HTTP/1.1 server on 127.0.0.1 and a free port, one request per connection. A raw socket rather than
/// HttpListener or Kestrel so the test controls every byte: it can cut a body mid-way, and it sees the request target
/// exactly as sent, with %2F undecoded. "localhost" reaches the same socket, which serves as a second host (the CDN).
/// </summary>
public sealed class MockHttpServer : IDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource stop = new();
    readonly ConcurrentQueue<SeenRequest> seen = new();
    readonly Func<SeenRequest, MockReply> handler;

    public MockHttpServer(Func<SeenRequest, MockReply> handler)
    {
        this.handler = handler;
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoop);
    }

    public int Port { get; }
    public IReadOnlyList<SeenRequest> Requests => [.. seen];
    public void ClearRequests() => seen.Clear();

    async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    async Task Serve(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var request = await ReadHead(stream);
            if (request is null) return;
            seen.Enqueue(request);
            MockReply reply;
            try { reply = handler(request); }
            catch (Exception e) { reply = MockReply.Text(500, $"mock failed: {e}"); }
            var head = new StringBuilder($"HTTP/1.1 {reply.Status} {Reason(reply.Status)}\r\n");
            foreach (var (name, value) in reply.Headers) head.Append($"{name}: {value}\r\n");
            head.Append($"Content-Length: {reply.Body.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
            if (request.Method != "HEAD")
                await stream.WriteAsync(reply.Body.AsMemory(0, Math.Min(reply.DropAfter ?? int.MaxValue, reply.Body.Length)));
            await stream.FlushAsync();
            // Closing gracefully (FIN, not RST) means the client reads exactly the bytes sent before it sees the end.
            client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
    }

    static async Task<SeenRequest?> ReadHead(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || !(bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) return null;
            bytes.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString([.. bytes]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var first = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        return new SeenRequest(first[0], first[1], headers);
    }

    static string Reason(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 302 => "Found", 307 => "Temporary Redirect", 401 => "Unauthorized",
        403 => "Forbidden", 404 => "Not Found", 416 => "Range Not Satisfiable", _ => "Status",
    };

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
