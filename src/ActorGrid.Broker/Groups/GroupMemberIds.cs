#nullable enable
using System.Security.Cryptography;
using ActorGrid.Security;

namespace ActorGrid.Broker.Groups;

/// <summary>
/// Consumer-group member ids (SPEC §11): made by the server, unguessable (128 random bits) and bound to the principal
/// that joined, whose id ends the member id. Any node checks the binding from the id alone, so a member id read
/// from <c>GET /groups/{g}</c> is useless to another token.
/// </summary>
public static class GroupMemberIds
{
    /// <summary>A new member id for <paramref name="owner"/>.</summary>
    public static string New(GridPrincipal owner) => $"m-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}.{owner.Id}";

    /// <summary>Whether <paramref name="memberId"/> was issued to <paramref name="caller"/>.</summary>
    public static bool IsOwnedBy(string memberId, GridPrincipal caller) =>
        memberId.StartsWith("m-", StringComparison.Ordinal) && memberId.EndsWith("." + caller.Id, StringComparison.Ordinal);
}
