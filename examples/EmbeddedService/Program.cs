using ActorGrid.Broker;
using ActorGrid.Configuration;
using ActorGrid.Hosting;
using ActorGrid.KeyValue;
using EmbeddedService;

try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.Services.AddProblemDetails();
    // Joins the grid (seeds and roles from the ActorGrid section) with the built-in KV and broker roles and its own.
    builder.Services.AddActorGrid(builder.Configuration, grid => grid.WithKeyValue().WithBroker().WithOrders());

    var app = builder.Build();
    app.MapActorGrid();
    await app.RunAsync();
    return 0;
}
catch (ActorGridConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
