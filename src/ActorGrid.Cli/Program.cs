return await ActorGrid.Cli.ActorGridCli.RunAsync(args);
