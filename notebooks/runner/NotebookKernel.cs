using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace OptNeurons.Notebooks;

/// <summary>
/// A fresh in-process C# kernel, set up as the VS Code one is for what our notebooks use: C# with the kernel helpers
/// (<c>display(…)</c>) and <c>#r "nuget: …"</c>. One per notebook, so no state leaks from one notebook into the next.
/// </summary>
public sealed partial class NotebookKernel : IDisposable
{
    readonly CompositeKernel kernel;

    public NotebookKernel()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective((k, packages) =>
            {
                k.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                return Task.CompletedTask;
            })
            .UseKernelHelpers();
        kernel = new CompositeKernel { csharp };
        kernel.DefaultKernelName = csharp.Name;
    }

    /// <summary>Runs one piece of C# and returns what it showed, and the error text if it failed.</summary>
    public async Task<(IReadOnlyList<CellOutput> Outputs, string? Error)> SubmitAsync(string code, CancellationToken cancellation = default)
    {
        var result = await kernel.SendAsync(new SubmitCode(code, "csharp"), cancellation);
        var outputs = new List<CellOutput>();
        var displayed = new Dictionary<string, int>();   // value id → index in outputs, for DisplayedValueUpdated
        string? error = null;
        foreach (var e in result.Events)
        {
            switch (e)
            {
                case ErrorProduced p: error ??= p.Message; break;   // a DisplayEvent too: match it first
                case CommandFailed f: error = f.Message; break;
                case StandardOutputValueProduced o: outputs.Add(new StreamOutput("stdout", Text(o))); break;
                case StandardErrorValueProduced o: outputs.Add(new StreamOutput("stderr", Text(o))); break;
                case DisplayedValueUpdated u when u.ValueId is not null && displayed.TryGetValue(u.ValueId, out var at):
                    outputs[at] = Display(u, false); break;
                case DisplayEvent d:
                    if (d is DisplayedValueProduced { ValueId: { } id }) displayed[id] = outputs.Count;
                    outputs.Add(Display(d, d is ReturnValueProduced)); break;
            }
        }
        if (error is not null)
        {
            error = WithoutNativeFrames(error);
            outputs.Add(new ErrorOutput(error));
        }
        return (outputs, error);
    }

    /// <summary>
    /// An error without the native stack that TorchSharp appends to libtorch's message ("frame #0: c10::… + 0x68 (…)",
    /// dozens of lines): what failed and the cell's .NET stack are what a notebook reader can act on.
    /// </summary>
    static string WithoutNativeFrames(string error) => NativeFrame().Replace(error, "");

    [GeneratedRegex(@"^frame #\d+: .*(\r?\n|$)", RegexOptions.Multiline)]
    private static partial Regex NativeFrame();

    static string Text(DisplayEvent e) => e.FormattedValues.FirstOrDefault()?.Value ?? "";

    static DisplayOutput Display(DisplayEvent e, bool isReturnValue) =>
        new(e.FormattedValues.GroupBy(v => v.MimeType).ToDictionary(g => g.Key, g => g.First().Value), isReturnValue);

    public void Dispose() => kernel.Dispose();
}
