# syntax=docker/dockerfile:1
# The ActorGrid node. Build from the repository root:
#   docker build -t actorgrid/node:dev .
# Runs as the image's non-root user (uid 1654); HTTP on 5080, the Redis protocol on 6379 (at ActorGrid:Hostname), Akka remoting on 4053.

ARG DOTNET_VERSION=10.0

# Only the project files: the restore layer below is rebuilt when a project file or package version changes,
# not on every source edit (BuildKit compares the copied files by content).
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS projects
WORKDIR /src
COPY src/ src/
RUN find src -type f ! -name '*.csproj' ! -name 'Directory.*' -delete

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
COPY .editorconfig global.json Directory.Build.props Directory.Packages.props ./
COPY --from=projects /src/ ./
RUN dotnet restore src/ActorGrid.Node/ActorGrid.Node.csproj
COPY src/ src/
RUN dotnet publish src/ActorGrid.Node/ActorGrid.Node.csproj -c Release --no-restore -o /app /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# SQLite journal location for a plain `docker run` (Kubernetes uses PostgreSQL and needs no writable data folder).
RUN mkdir -p /var/lib/actorgrid && chown 1654:1654 /var/lib/actorgrid
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://0.0.0.0:5080 \
    ActorGrid__DataDir=/var/lib/actorgrid
EXPOSE 4053 5080 6379 9092
# Numeric, so that Kubernetes' runAsNonRoot can verify it (the image's `app` user).
USER 1654
ENTRYPOINT ["dotnet", "ActorGrid.Node.dll"]
