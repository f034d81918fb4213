using ActorGrid.Hosting;
using ActorGrid.Hosting.Observability;
using ActorGrid.Node;

var command = NodeCommandLine.Create();
command.SetAction((parse, cancellationToken) => NodeStartup.RunAsync(parse, cancellationToken, (builder, configuration) =>
{
    builder.Services.AddProblemDetails();
    builder.Services.AddActorGrid(configuration, grid => grid.WithBuiltInRoles());
}, app =>
{
    // The node is its own application: bare status codes (unknown routes, wrong methods) become problem+json too.
    app.UseStatusCodePages();
    app.UseActorGridTelemetry();
    app.MapActorGrid();
}));
return await NodeStartup.InvokeAsync(command, args);
