using Connet.Core.Protocol.Wire;

namespace Connet.Core.Restrictions;

/// <summary>connet's <c>role-matches</c>: empty allows both roles, else <c>source</c> or <c>destination</c> only.</summary>
public sealed class RoleRestriction
{
    private RoleRestriction(Role? required) => Required = required;

    /// <summary>No role restriction.</summary>
    public static RoleRestriction AllowAll { get; } = new(null);

    public static RoleRestriction SourceOnly { get; } = new(Role.Source);

    public static RoleRestriction DestinationOnly { get; } = new(Role.Destination);

    /// <summary>The only role allowed, or null when any is.</summary>
    public Role? Required { get; }

    public bool IsEmpty => Required is null;

    /// <summary>Parses <c>""</c> (or null), <c>source</c> or <c>destination</c>, as in connet's TOML.</summary>
    /// <exception cref="FormatException">Any other text; the message names it.</exception>
    public static RoleRestriction Parse(string? role) => role switch
    {
        null or "" => AllowAll,
        "source" => SourceOnly,
        "destination" => DestinationOnly,
        _ => throw new FormatException($"Invalid role-matches value \"{role}\": expected \"source\" or \"destination\"."),
    };

    public bool IsAllowed(Role role) => Required is not Role required || role == required;

    public override string ToString() => Required switch
    {
        Role.Source => "source",
        Role.Destination => "destination",
        _ => string.Empty,
    };
}
