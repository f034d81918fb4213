#nullable enable
using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json.Nodes;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace ActorGrid.TestKit;

/// <summary>
/// Checks that every type of a manifest table survives the ActorGrid serializer: a sample of each type (built by
/// reflection, every member set to a non-default value) is written, read back and written again, and both
/// writes must be identical. A property the constructor does not restore, or a type STJ cannot read, fails.
/// </summary>
public static class SerializationChecks
{
    /// <summary>
    /// The serialization setup of a spec's own actor system: every <see cref="IActorGridMessage"/> goes through the
    /// ActorGrid serializer with <paramref name="registry"/>'s manifests, as on a node.
    /// </summary>
    public static SerializationSetup Setup(ManifestRegistry registry) =>
        SerializationSetup.Create(system => [SerializerDetails.Create(ActorGridSerializer.Name, new ActorGridSerializer(system, registry), [typeof(IActorGridMessage)])]);

    /// <summary>Round-trips a sample of every registered type through the serializer bound in <paramref name="system"/>.</summary>
    /// <returns>The manifests checked.</returns>
    public static IReadOnlyList<string> AssertRoundTripsAll(ActorSystem system, ManifestRegistry registry)
    {
        var checkedManifests = new List<string>();
        var serialization = system.Serialization;
        foreach (var (manifest, type) in registry.Entries)
        {
            var sample = Sample(type, 0) ?? throw new InvalidOperationException($"Cannot build a sample of {type}");
            var serializer = serialization.FindSerializerFor(sample);
            if (serializer is not ActorGridSerializer grid)
            {
                throw new InvalidOperationException($"{type} is serialized by {serializer.GetType().Name}, not the ActorGrid serializer");
            }

            var bytes = grid.ToBinary(sample);
            var written = Manifest(grid, sample);
            if (written != manifest)
            {
                throw new InvalidOperationException($"{type} was written under manifest '{written}', registered as '{manifest}'");
            }

            var back = serialization.Deserialize(bytes, grid.Identifier, manifest);
            if (back.GetType() != type)
            {
                throw new InvalidOperationException($"Manifest '{manifest}' read back as {back.GetType()}, not {type}");
            }

            var again = grid.ToBinary(back);
            if (!bytes.AsSpan().SequenceEqual(again))
            {
                throw new InvalidOperationException(
                    $"{type} ('{manifest}') changed in a round trip:\n  {System.Text.Encoding.UTF8.GetString(bytes)}\n  {System.Text.Encoding.UTF8.GetString(again)}");
            }

            checkedManifests.Add(manifest);
        }

        return checkedManifests;
    }

    /// <summary>
    /// Reads every stored golden payload (<c>&lt;manifest&gt;.json</c> in <paramref name="directory"/>, the bytes an
    /// earlier version wrote; <c>&lt;manifest&gt;+&lt;variant&gt;.json</c> for further shapes of one manifest, such as
    /// one with members added later) with the serializer bound in <paramref name="system"/> and writes it again: everything
    /// the old payload held must come back (the new write may add members). Fails if a manifest of
    /// <paramref name="required"/> has no golden file, so a persisted type cannot ship without one.
    /// </summary>
    /// <returns>The objects read, by file name without <c>.json</c> (the manifest, or manifest+variant), for assertions on their content.</returns>
    public static IReadOnlyDictionary<string, object> AssertGoldenPayloads(ActorSystem system, string directory, IEnumerable<string> required)
    {
        var read = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*.json"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var manifest = name.Split('+')[0];
            var golden = File.ReadAllBytes(file);
            var value = system.Serialization.Deserialize(golden, ActorGridSerializer.SerializerId, manifest);
            var again = system.Serialization.FindSerializerFor(value).ToBinary(value);
            if (JsonNode.Parse(golden) is not { } old || JsonNode.Parse(again) is not { } now || !Covers(now, old))
            {
                throw new InvalidOperationException(
                    $"The golden payload of '{name}' does not survive a read and write:\n  golden {System.Text.Encoding.UTF8.GetString(golden)}\n  now    {System.Text.Encoding.UTF8.GetString(again)}");
            }

            read[name] = value;
        }

        var missing = required.Where(m => !read.ContainsKey(m)).ToList();
        return missing.Count == 0
            ? read
            : throw new InvalidOperationException($"No golden payload in {directory} for: {string.Join(", ", missing)}");
    }

    // Whether `now` holds everything `old` held (objects may have gained members).
    private static bool Covers(JsonNode? now, JsonNode? old) => (now, old) switch
    {
        (null, null) => true,
        (JsonObject n, JsonObject o) => o.All(p => n.TryGetPropertyValue(p.Key, out var v) && Covers(v, p.Value)),
        (JsonArray n, JsonArray o) => n.Count == o.Count && Enumerable.Range(0, o.Count).All(i => Covers(n[i], o[i])),
        (JsonValue n, JsonValue o) => JsonNode.DeepEquals(n, o),
        _ => false,
    };

    private static string Manifest(Serializer serializer, object o) => Akka.Serialization.Serialization.ManifestFor(serializer, o);

    /// <summary>A sample value of <paramref name="type"/> with every member set to something other than its default.</summary>
    public static object? Sample(Type type, int depth)
    {
        if (depth > 6)
        {
            return type.IsValueType ? Activator.CreateInstance(type) : null;
        }

        var nullable = Nullable.GetUnderlyingType(type);
        if (nullable is not null)
        {
            return Sample(nullable, depth);
        }

        if (type == typeof(string)) return "sample-" + depth;
        if (type == typeof(int)) return 7 + depth;
        if (type == typeof(long)) return 70_000_000_000L + depth;
        if (type == typeof(short)) return (short)7;
        if (type == typeof(byte)) return (byte)7;
        if (type == typeof(uint)) return 7u;
        if (type == typeof(ulong)) return 7ul;
        if (type == typeof(double)) return 7.5;
        if (type == typeof(float)) return 7.5f;
        if (type == typeof(decimal)) return 7.5m;
        if (type == typeof(bool)) return true;
        if (type == typeof(char)) return 'x';
        if (type == typeof(Guid)) return Guid.Parse("0b7c6f4e-8a51-4c4e-9d5b-7f3c2a1e0d9f");
        if (type == typeof(DateTime)) return new DateTime(2026, 11, 24, 8, 30, 0, DateTimeKind.Utc);
        if (type == typeof(DateTimeOffset)) return new DateTimeOffset(2026, 11, 24, 8, 30, 0, TimeSpan.Zero);
        if (type == typeof(TimeSpan)) return TimeSpan.FromMilliseconds(1500);
        if (type == typeof(byte[])) return new byte[] { 1, 2, 3, 255 };
        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue(values.Length - 1);
        }

        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var array = Array.CreateInstance(element, 2);
            array.SetValue(Sample(element, depth + 1), 0);
            array.SetValue(Sample(element, depth + 2), 1);
            return array;
        }

        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            if (args.Length == 1 && typeof(IEnumerable).IsAssignableFrom(type) && definition != typeof(Nullable<>))
            {
                var items = Array.CreateInstance(args[0], 2);
                items.SetValue(Sample(args[0], depth + 1), 0);
                items.SetValue(Sample(args[0], depth + 2), 1);
                if (definition == typeof(ImmutableList<>) || definition == typeof(IImmutableList<>))
                {
                    return typeof(ImmutableList).GetMethods().First(m => m.Name == "CreateRange").MakeGenericMethod(args[0]).Invoke(null, [items]);
                }

                if (definition == typeof(ImmutableArray<>))
                {
                    return typeof(ImmutableArray).GetMethods().First(m => m.Name == "CreateRange" && m.GetParameters().Length == 1)
                        .MakeGenericMethod(args[0]).Invoke(null, [items]);
                }

                if (definition == typeof(ImmutableHashSet<>) || definition == typeof(ImmutableSortedSet<>) || definition == typeof(IImmutableSet<>))
                {
                    var factory = definition == typeof(ImmutableSortedSet<>) ? typeof(ImmutableSortedSet) : typeof(ImmutableHashSet);
                    return factory.GetMethods().First(m => m.Name == "CreateRange" && m.GetParameters().Length == 1)
                        .MakeGenericMethod(args[0]).Invoke(null, [items]);
                }

                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(args[0]))!;
                foreach (var item in items)
                {
                    list.Add(item);
                }

                return list;
            }

            if (args.Length == 2 && typeof(IEnumerable).IsAssignableFrom(type))
            {
                var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
                dictionary[Sample(args[0], depth + 1)!] = Sample(args[1], depth + 1);
                if (definition == typeof(ImmutableDictionary<,>) || definition == typeof(IImmutableDictionary<,>))
                {
                    return typeof(ImmutableDictionary).GetMethods()
                        .First(m => m.Name == "CreateRange" && m.GetParameters().Length == 1)
                        .MakeGenericMethod(args).Invoke(null, [dictionary]);
                }

                if (definition == typeof(ImmutableSortedDictionary<,>))
                {
                    return typeof(ImmutableSortedDictionary).GetMethods()
                        .First(m => m.Name == "CreateRange" && m.GetParameters().Length == 1)
                        .MakeGenericMethod(args).Invoke(null, [dictionary]);
                }

                return dictionary;
            }
        }

        if (type.IsAbstract || type.IsInterface)
        {
            return null;
        }

        var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault();
        if (constructor is null)
        {
            return Activator.CreateInstance(type);
        }

        var parameters = constructor.GetParameters();
        // Records' copy constructors take the record itself; skip them.
        if (parameters.Length == 1 && parameters[0].ParameterType == type)
        {
            return Activator.CreateInstance(type);
        }

        return constructor.Invoke(parameters.Select((p, i) => Sample(p.ParameterType, depth + 1 + i % 2)).ToArray());
    }
}
