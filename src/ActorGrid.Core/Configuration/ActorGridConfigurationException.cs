#nullable enable
namespace ActorGrid.Configuration;

/// <summary>Invalid node configuration. The message is one line that names the offending key.</summary>
public sealed class ActorGridConfigurationException(string message, Exception? inner = null)
    : Exception(message, inner);
