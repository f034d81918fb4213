using ActorGrid.Configuration;
using ActorGrid.Hosting;
using ActorGrid.Node;
using ActorGrid.Resp;

try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
    builder.Configuration.AddInMemoryCollection(NodeCommandLine.ToConfiguration(args));
    builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
    builder.Services.AddProblemDetails();
    builder.Services.AddActorGrid(builder.Configuration, grid => grid.WithBuiltInRoles());
    builder.AddActorGridResp();

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
