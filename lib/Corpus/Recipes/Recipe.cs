using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptNeurons.Corpus;

/// <summary>How a recipe part's files are read.</summary>
public enum RecipeFormat { Jsonl, Parquet, Text }

/// <summary>
/// One source of a recipe: files of a HuggingFace dataset repo at a revision, how to read them, and the share of the
/// token budget they get. <see cref="Note"/> says why this source stands in for the paper's.
/// </summary>
public sealed record RecipePart(
    string Name, string Repo, string Revision, IReadOnlyList<string> Files, RecipeFormat Format, string TextField, double Share, string Note,
    FieldMatch? Where = null, IReadOnlyList<string>? ExcludeTexts = null, int? MaxDocuments = null);

/// <summary>
/// A data recipe, declared in <c>data/recipes/&lt;name&gt;.json</c> (embedded in the library, so it travels with it):
/// which public dataset files to download, how to read them, and how many tokens to take from each.
/// </summary>
public sealed partial record Recipe(string Name, string Description, string Paper, long TokenBudget, IReadOnlyList<RecipePart> Parts, string? SharesNote = null)
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        RespectNullableAnnotations = true,              // a missing or null "repo" is an error, not a null string
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,  // a misspelt key ("txt_field") is an error too
    };

    const string ResourcePrefix = "OptNeurons.Recipes.";

    /// <summary>The recipes shipped in the library: paper-section3, paper-section4, paper-section5.</summary>
    public static IReadOnlyList<string> Names => typeof(Recipe).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".json".Length]).Order(StringComparer.Ordinal).ToList();

    public static Recipe Named(string name)
    {
        using var stream = typeof(Recipe).Assembly.GetManifestResourceStream($"{ResourcePrefix}{name}.json")
            ?? throw new ArgumentException($"no recipe \"{name}\"; known: {string.Join(", ", Names)}.", nameof(name));
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"recipe {name}");
    }

    public static Recipe Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses and checks a recipe; <paramref name="origin"/> (a path or name) starts every error message.</summary>
    public static Recipe Parse(string json, string origin)
    {
        Recipe? recipe;
        try { recipe = JsonSerializer.Deserialize<Recipe>(json, Json); }
        catch (JsonException e) { throw new InvalidDataException($"{origin}: {e.Message}", e); }
        if (recipe is null) throw new InvalidDataException($"{origin}: the recipe is null.");
        recipe.Validate(origin);
        return recipe;
    }

    void Validate(string origin)
    {
        void Check(bool ok, string message) { if (!ok) throw new InvalidDataException($"{origin}: {message}"); }
        Check(Name.Length > 0, "\"name\" is empty.");
        Check(TokenBudget > 0, $"\"token_budget\" must be positive, got {TokenBudget}.");
        Check(Parts.Count > 0, "\"parts\" is empty.");
        foreach (var p in Parts)
        {
            string at = $"part \"{p.Name}\"";
            Check(p.Repo.Contains('/') && p.Revision.Length > 0, $"{at}: needs \"repo\" as owner/name and a \"revision\".");
            Check(p.Files.Count > 0 && p.Files.All(f => f.Length > 0), $"{at}: needs at least one file path.");
            Check(p.TextField.Length > 0, $"{at}: \"text_field\" is empty.");
            Check(p.Share > 0, $"{at}: \"share\" must be positive, got {p.Share}.");
            Check(p.Where is null || p.Format == RecipeFormat.Jsonl, $"{at}: \"where\" filters JSON Lines records only.");
            Check(p.MaxDocuments is null or > 0, $"{at}: \"max_documents\" must be positive.");
        }
        Check(Parts.Select(p => p.Name).Distinct().Count() == Parts.Count, "part names must be unique.");
        Check(Math.Abs(Parts.Sum(p => p.Share) - 1) <= 1e-6, $"shares add up to {Parts.Sum(p => p.Share)}, not 1.");
    }
}
