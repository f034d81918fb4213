#nullable enable
namespace ActorGrid.Serialization;

/// <summary>
/// Marker for every type ActorGrid sends between nodes or writes to the journal. Types with this marker are
/// serialized by <see cref="ActorGridSerializer"/> and must be registered in a <see cref="ManifestRegistry"/>.
/// </summary>
public interface IActorGridMessage;
