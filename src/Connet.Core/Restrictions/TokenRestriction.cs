using System.Net;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;

namespace Connet.Core.Restrictions;

/// <summary>
/// One <c>[[token-restriction]]</c> entry: the CIDRs a token may authenticate from, and the endpoint
/// names and role it may announce. The control server checks the address at authentication and the
/// endpoint and role on each announce or relay request.
/// </summary>
public sealed record TokenRestriction(IPRestriction Addresses, NameRestriction Names, RoleRestriction Roles)
{
    public static TokenRestriction AllowAll { get; } = new(IPRestriction.AllowAll, NameRestriction.AllowAll, RoleRestriction.AllowAll);

    /// <summary>Parses the four TOML fields; null or empty fields do not restrict.</summary>
    /// <exception cref="FormatException">A CIDR, the expression or the role is invalid; the message names it.</exception>
    public static TokenRestriction Parse(
        IEnumerable<string>? allowCidrs,
        IEnumerable<string>? denyCidrs,
        string? nameMatches,
        string? roleMatches,
        TimeSpan? nameMatchTimeout = null) =>
        new(IPRestriction.Parse(allowCidrs, denyCidrs), NameRestriction.Parse(nameMatches, nameMatchTimeout), RoleRestriction.Parse(roleMatches));

    /// <summary>
    /// Why the endpoint and role are refused (<see cref="ConnetErrorCode.EndpointNotAllowed"/> or
    /// <see cref="ConnetErrorCode.RoleNotAllowed"/>), or null when they are allowed.
    /// </summary>
    public ConnetErrorCode? CheckEndpoint(string endpointName, Role role)
    {
        if (!Names.IsAllowed(endpointName))
        {
            return ConnetErrorCode.EndpointNotAllowed;
        }

        return Roles.IsAllowed(role) ? null : ConnetErrorCode.RoleNotAllowed;
    }

    public bool IsAddressAllowed(IPAddress address) => Addresses.IsAllowed(address);
}
