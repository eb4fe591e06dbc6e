using System.Buffers.Binary;
using System.Text;
using OptNeurons.Loading;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Loading;

/// <summary>Shared set-up for the error tests: a temp folder, snapshot folders with a valid config, message checks.</summary>
public abstract class ErrorTestBase : IDisposable
{
    protected static readonly string FixtureDirectory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "opt-tiny-pre-ln");
    protected static readonly string FixtureConfig = File.ReadAllText(Path.Combine(FixtureDirectory, "config.json"));
    protected readonly TempDirectory temp = new();

    // Some tests touch torch before opening anything; torch must never initialise before TorchRuntime has prepared it.
    protected ErrorTestBase() => OptNeurons.Runtime.TorchRuntime.Initialize();

    public void Dispose()
    {
        temp.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A snapshot folder holding only config.json (the fixture's unless given).</summary>
    protected string Folder(string name, string? config = null)
    {
        var directory = Directory.CreateDirectory(temp.Sub(name)).FullName;
        File.WriteAllText(Path.Combine(directory, "config.json"), config ?? FixtureConfig);
        return directory;
    }

    /// <summary>A safetensors file from a raw JSON header and zeroed data, optionally declaring a wrong header length.</summary>
    protected static byte[] RawSafeTensors(string header, int dataBytes, long? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? json.Length));
        json.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>Opening <paramref name="directory"/> throws exactly <typeparamref name="T"/>, whose message contains every expected text.</summary>
    protected static T Fails<T>(string directory, params string[] expected) where T : Exception
    {
        var error = Assert.Throws<T>(() => Checkpoint.Open(directory));
        foreach (var text in expected) Assert.Contains(text, error.Message);
        return error;
    }
}
