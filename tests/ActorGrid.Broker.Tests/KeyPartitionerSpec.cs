using ActorGrid.Broker.Topics;

namespace ActorGrid.Broker.Tests;

public sealed class KeyPartitionerSpec
{
    [Fact]
    public void A_key_always_maps_to_the_same_partition_in_every_process()
    {
        // Pinned values: changing the hash would move existing keys to other partitions.
        Assert.Equal(KeyPartitioner.ForKey("customer-42", 16), KeyPartitioner.ForKey("customer-42", 16));
        Assert.Equal([6, 15, 0], new[] { "a", "b", "customer-42" }.Select(k => KeyPartitioner.ForKey(k, 16)));
    }

    [Fact]
    public void Keys_and_producer_sequences_spread_over_the_partitions()
    {
        var byKey = Enumerable.Range(0, 8000).GroupBy(i => KeyPartitioner.ForKey($"key-{i}", 8)).ToDictionary(g => g.Key, g => g.Count());
        var bySequence = Enumerable.Range(0, 8000).GroupBy(i => KeyPartitioner.ForProducerSequence("p", i, 8)).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(8, byKey.Count);
        Assert.Equal(8, bySequence.Count);
        Assert.All(byKey.Values.Concat(bySequence.Values), count => Assert.InRange(count, 800, 1200));
    }

    [Theory]
    [InlineData("orders", true)]
    [InlineData("a.b_c-D9", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("slash/name", false)]
    [InlineData("ünicode", false)]
    [InlineData("x\n", false)] // `$` matched before a trailing newline (issue 14)
    [InlineData("x\r\n", false)]
    [InlineData("\u0000", false)]
    [InlineData("x\ud800", false)]
    [InlineData("ｘ", false)] // full-width letter: IsLetterOrDigit, not ASCII
    public void Names_follow_the_topic_name_rule(string name, bool valid)
    {
        Assert.Equal(valid, BrokerNames.IsValid(name));
        Assert.True(BrokerNames.IsValid(new string('x', 200)));
        Assert.False(BrokerNames.IsValid(new string('x', 201)));
    }
}
