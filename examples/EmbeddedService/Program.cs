using ActorGrid.Broker;
using ActorGrid.Configuration;
using ActorGrid.Hosting;
using ActorGrid.KeyValue;
using Akka.Hosting;
using EmbeddedService;

try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.Services.AddProblemDetails();
    // The grid's options, roles and role services (seeds and roles from the ActorGrid section): the built-in KV and
    // broker roles and the service's own orders.
    builder.Services.AddActorGridServices(builder.Configuration, grid => grid.WithKeyValue().WithBroker().WithOrders());
    // The service's one actor system, which the grid joins the cluster with.
    builder.Services.AddAkka(builder.Configuration["ActorGrid:ClusterName"] ?? "actorgrid", (akka, services) => akka.WithActorGrid(services));

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
