using ActorGrid.Naming;

namespace ActorGrid.Core.Tests;

/// <summary>The one name validator: ASCII only, checked per character, so nothing slips past an anchor.</summary>
public sealed class GridNamesSpec
{
    [Theory]
    [InlineData("orders", true)]
    [InlineData("A.b_c-9", true)]
    [InlineData("", false)]
    [InlineData("x\n", false)]
    [InlineData("x\r", false)]
    [InlineData("\nx", false)]
    [InlineData("x\0", false)]
    [InlineData("x\u0085", false)]
    [InlineData("x\ud800", false)]
    [InlineData("x\u2028", false)]
    [InlineData("\uff58", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("a%0A", false)]
    public void Broker_names_are_ascii_letters_digits_and_dot_underscore_dash(string name, bool valid) =>
        Assert.Equal(valid, GridNames.Broker.IsValid(name));

    [Fact]
    public void Rules_bound_the_length_and_the_alphabet()
    {
        Assert.True(GridNames.Broker.IsValid(new string('x', 200)));
        Assert.False(GridNames.Broker.IsValid(new string('x', 201)));
        Assert.False(GridNames.Broker.IsValid(null));
        Assert.True(GridNames.JobId.IsValid(new string('J', 64)));
        Assert.False(GridNames.JobId.IsValid(new string('J', 65)));
        Assert.False(GridNames.JobId.IsValid("a.b"));
        Assert.True(GridNames.JobType.IsValid("count-by"));
        Assert.False(GridNames.JobType.IsValid("Count-by"));
        Assert.Equal("1 to 200 of A-Z, a-z, 0-9, '.', '_', '-'", GridNames.Broker.Describe());
    }
}
