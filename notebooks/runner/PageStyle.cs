namespace OptNeurons.Notebooks;

/// <summary>The stylesheet of the notebook pages and the index: readable prose width, quiet code, visible failures.</summary>
static class PageStyle
{
    public const string Css = """
        body { margin: 0; background: #fafafa; color: #222; font: 16px/1.55 Inter, 'Segoe UI', Helvetica, Arial, sans-serif; }
        main { max-width: 980px; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; background: white; }
        nav { font-size: 0.9rem; color: #555; border-bottom: 1px solid #eee; padding-bottom: 0.5rem; margin-bottom: 1rem; }
        h1 { font-size: 1.9rem; line-height: 1.25; } h2 { margin-top: 2rem; border-bottom: 1px solid #eee; }
        blockquote { margin: 0 0 1rem; padding: 0.25rem 1rem; border-left: 4px solid #d6604d; color: #444; background: #fdf6f4; }
        pre, code { font: 13.5px/1.45 'JetBrains Mono', Consolas, Menlo, monospace; }
        section.code { margin: 0.9rem 0; border: 1px solid #e3e3e3; border-radius: 6px; overflow: hidden; }
        section.code.failed { border-color: #c62828; } section.code.skipped { opacity: 0.55; }
        .cell-head { font-size: 0.75rem; color: #888; padding: 0.2rem 0.6rem; background: #f6f6f6; }
        pre.source { margin: 0; padding: 0.6rem 0.8rem; background: #f6f8fa; white-space: pre-wrap; }
        .output { padding: 0.4rem 0.8rem; border-top: 1px dashed #e6e6e6; overflow-x: auto; }
        .output pre { margin: 0; white-space: pre-wrap; } pre.stderr, pre.error { color: #b71c1c; }
        table.frame, .output table { border-collapse: collapse; font-size: 0.9rem; margin: 0.3rem 0; }
        table.frame th, table.frame td, .output th, .output td { border: 1px solid #e3e3e3; padding: 0.25rem 0.6rem; text-align: right; }
        table.index td:first-child { text-align: left; }
        table.frame th, .output th { background: #f6f6f6; } .frame-note { font-size: 0.8rem; color: #777; }
        .pass { color: #2e7d32; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
        """;
}
