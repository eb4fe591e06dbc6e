using OptNeurons.Notebooks;

return await RunnerCommand.RunAsync(args, Console.Out, Console.Error);
