using System.Globalization;
using OptNeurons.Notebooks;

// Numbers print as the English around them reads them (1,234.5), whatever the machine's locale; _setup.dib does the
// same for a notebook opened in an editor.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return await RunnerCommand.RunAsync(args, Console.Out, Console.Error);
