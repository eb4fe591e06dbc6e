using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using OptNeurons.Runtime;

namespace OptNeurons.Notebooks;

/// <summary>Writes an executed notebook as .ipynb (nbformat 4, .NET C# kernel metadata) with every output.</summary>
static class IpynbWriter
{
    public static void Write(NotebookResult result, string path)
    {
        var document = new InteractiveDocument();
        int executed = 0;
        foreach (var cell in result.Cells)
        {
            var element = new InteractiveDocumentElement(cell.Source, cell.Kernel);
            if (cell.IsCode && cell.Ran) element.ExecutionOrder = ++executed;
            foreach (var output in cell.Outputs) element.Outputs.Add(ToElement(output, element.ExecutionOrder));
            document.Elements.Add(element);
        }
        AtomicFile.WriteAllText(path, JsonMimeTypesAsObjects(document.ToJupyterJson("C#")));
    }

    static InteractiveDocumentOutputElement ToElement(CellOutput output, int executionOrder)
    {
        switch (output)
        {
            case DisplayOutput { IsReturnValue: true } value:
                var result = new ReturnValueElement { ExecutionOrder = executionOrder };
                foreach (var (mime, data) in value.Data) result.Data[mime] = data;
                return result;
            case DisplayOutput display:
                return new DisplayElement(display.Data.ToDictionary(kv => kv.Key, kv => (object)kv.Value));
            case StreamOutput stream:
                return new TextElement(stream.Text, stream.Name);
            case ErrorOutput error:
                return new ErrorElement(error.Message, "Error", []);
            default:
                throw new ArgumentOutOfRangeException(nameof(output), output.GetType().Name);
        }
    }

    /// <summary>
    /// nbformat stores JSON MIME types (the plotly figure) as JSON objects, but the .NET Interactive writer only writes
    /// text (as a list of lines): parse those back into objects, so Jupyter and VS Code can draw the figure.
    /// </summary>
    static string JsonMimeTypesAsObjects(string notebookJson)
    {
        var notebook = JsonNode.Parse(notebookJson)!;
        var outputs = notebook["cells"]!.AsArray().SelectMany(c => c!["outputs"]?.AsArray() ?? []);
        foreach (var data in outputs.Select(o => o!["data"]?.AsObject()).OfType<JsonObject>())
            foreach (var key in data.Select(kv => kv.Key).Where(IsJson).ToList())
                data[key] = JsonNode.Parse(string.Concat(data[key]!.AsArray().Select(line => line!.GetValue<string>())));
        return notebook.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    static bool IsJson(string mime) => mime == "application/json" || mime.EndsWith("+json", StringComparison.Ordinal);
}
