using System.Text.RegularExpressions;

namespace Connet.Core.Restrictions;

/// <summary>
/// connet's <c>name-matches</c>: a regular expression an endpoint name must match somewhere (unanchored,
/// as Go's <c>regexp.MatchString</c>; write <c>^…$</c> for a whole-name match). An empty pattern allows
/// every name. The expression runs with <see cref="RegexOptions.NonBacktracking"/>, linear in the name
/// like Go's RE2, and with a match timeout as a second bound; a timed-out match refuses the name.
/// </summary>
public sealed class NameRestriction
{
    /// <summary>The match timeout used when none is given.</summary>
    public static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Regex? _regex;

    private NameRestriction(string pattern, Regex? regex)
    {
        Pattern = pattern;
        _regex = regex;
    }

    /// <summary>No pattern: every name is allowed.</summary>
    public static NameRestriction AllowAll { get; } = new(string.Empty, null);

    /// <summary>The expression as configured; empty when unrestricted.</summary>
    public string Pattern { get; }

    public bool IsEmpty => _regex is null;

    /// <summary>Compiles <paramref name="pattern"/>; null or empty means no restriction.</summary>
    /// <exception cref="FormatException">The pattern is not a valid expression; the message names it and says why.</exception>
    public static NameRestriction Parse(string? pattern, TimeSpan? matchTimeout = null)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return AllowAll;
        }

        var timeout = matchTimeout ?? DefaultMatchTimeout;
        if (timeout <= TimeSpan.Zero && timeout != Regex.InfiniteMatchTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(matchTimeout), timeout, "The match timeout must be positive.");
        }

        try
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, timeout);
            return new NameRestriction(pattern, regex);
        }
        catch (ArgumentException invalid) when (invalid is not ArgumentOutOfRangeException)
        {
            // RegexParseException for bad syntax; NotSupportedException-like ArgumentExceptions for
            // constructs (backreferences, lookarounds) that neither RE2 nor NonBacktracking supports.
            throw new FormatException($"Invalid name-matches expression \"{pattern}\": {invalid.Message}", invalid);
        }
        catch (NotSupportedException unsupported)
        {
            throw new FormatException($"Invalid name-matches expression \"{pattern}\": {unsupported.Message}", unsupported);
        }
    }

    /// <summary>Whether <paramref name="name"/> contains a match; a match that times out refuses the name.</summary>
    public bool IsAllowed(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_regex is null)
        {
            return true;
        }

        try
        {
            return _regex.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    public override string ToString() => Pattern;
}
