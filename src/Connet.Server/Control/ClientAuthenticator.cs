using System.Net;
using System.Security.Cryptography;
using System.Text;
using Connet.Core.Restrictions;

namespace Connet.Server.Control;

/// <summary>
/// Finds the configured token a client (or relay) presented, in time that does not depend on which token (or how
/// much of it) matched.
/// </summary>
internal sealed class ClientAuthenticator
{
    private readonly List<(byte[] Hash, TokenRestriction Restriction)> _tokens;

    public ClientAuthenticator(IEnumerable<ControlClientToken> tokens)
        : this(tokens.Select(token => (token.Token, TokenRestriction.Parse(
            token.Restriction.AllowCidrs, token.Restriction.DenyCidrs, token.Restriction.NameMatches, token.Restriction.RoleMatches))))
    {
    }

    private ClientAuthenticator(IEnumerable<(string Token, TokenRestriction Restriction)> tokens) =>
        _tokens = [.. tokens.Select(token => (Hash(token.Token), token.Restriction))];

    /// <summary>Relay tokens restrict only addresses: a relay serves every endpoint.</summary>
    public static ClientAuthenticator ForRelays(IEnumerable<ControlRelayToken> tokens) =>
        new(tokens.Select(token => (token.Token, TokenRestriction.Parse(token.AllowCidrs, token.DenyCidrs, null, null))));

    /// <summary>The restriction of the matching token, or an error message saying why the client is refused.</summary>
    public (TokenRestriction? Restriction, string? Error) Authenticate(string presented, IPAddress remote)
    {
        // Hashing first gives equal-length inputs to the fixed-time compare, and every token is compared
        // so the time does not reveal the position of the match.
        var presentedHash = Hash(presented);
        TokenRestriction? matched = null;
        foreach (var (hash, restriction) in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, presentedHash))
            {
                matched = restriction;
            }
        }

        if (matched is null)
        {
            return (null, "invalid token");
        }

        return matched.IsAddressAllowed(remote) ? (matched, null) : (null, $"address {remote} is not allowed for this token");
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token ?? string.Empty));
}
