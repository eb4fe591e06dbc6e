using System.Globalization;
using OptNeurons.Cli;

// optneurons: command-line entry point (CommandLine.Run).
// Numbers print as the English around them reads them (1,234.5), whatever the machine's locale.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return CommandLine.Run(args, Console.Out, Console.Error);
