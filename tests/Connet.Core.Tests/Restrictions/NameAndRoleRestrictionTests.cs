using System.Net;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Restrictions;

namespace Connet.Core.Tests.Restrictions;

public class NameAndRoleRestrictionTests
{
    [Theory]
    [InlineData("^exact$", "exact", true)]
    [InlineData("^exact$", "exact-no", false)]
    [InlineData("oneof|twoof", "oneof", true)]
    [InlineData("oneof|twoof", "three", false)]
    // Unanchored: a match anywhere in the name counts.
    [InlineData("web", "prod-web-01", true)]
    [InlineData("^web", "prod-web-01", false)]
    [InlineData("(?i)^WEB-[0-9]+$", "web-42", true)]
    [InlineData("", "anything", true)]
    public void Name_matrix(string pattern, string name, bool allowed)
    {
        Assert.Equal(allowed, NameRestriction.Parse(pattern).IsAllowed(name));
    }

    [Fact]
    public void Null_or_empty_pattern_does_not_restrict()
    {
        Assert.True(NameRestriction.Parse(null).IsEmpty);
        Assert.True(NameRestriction.Parse("").IsAllowed("x"));
        Assert.False(NameRestriction.Parse("x").IsEmpty);
        Assert.Equal("x", NameRestriction.Parse("x").Pattern);
    }

    [Theory]
    [InlineData("([a-z]+")]
    [InlineData("[z-a]")]
    [InlineData("a{2,1}")]
    // Backreferences and lookarounds: RE2 (Go) has neither, and the linear-time engine refuses them too.
    [InlineData("(a)\\1")]
    [InlineData("(?=a)a")]
    public void Bad_expression_is_rejected_with_a_message_naming_it(string pattern)
    {
        var error = Assert.Throws<FormatException>(() => NameRestriction.Parse(pattern));

        Assert.Contains($"\"{pattern}\"", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);
    }

    [Fact]
    public void Non_positive_match_timeout_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NameRestriction.Parse("a", TimeSpan.Zero));
    }

    [Fact]
    public void Pathological_pattern_for_a_backtracking_engine_still_answers()
    {
        // (a+)+$ against "aaaa…b" is exponential with backtracking; here it is linear and simply fails to match.
        var restriction = NameRestriction.Parse("^(a+)+$");

        Assert.False(restriction.IsAllowed(new string('a', 5000) + "b"));
        Assert.True(restriction.IsAllowed(new string('a', 5000)));
    }

    [Theory]
    [InlineData(null, Role.Source, true)]
    [InlineData("", Role.Destination, true)]
    [InlineData("source", Role.Source, true)]
    [InlineData("source", Role.Destination, false)]
    [InlineData("destination", Role.Destination, true)]
    [InlineData("destination", Role.Source, false)]
    [InlineData("destination", Role.Unknown, false)]
    public void Role_matrix(string? roleMatches, Role role, bool allowed)
    {
        Assert.Equal(allowed, RoleRestriction.Parse(roleMatches).IsAllowed(role));
    }

    [Theory]
    [InlineData("Source")]
    [InlineData("src")]
    [InlineData("both")]
    public void Bad_role_is_rejected_with_a_message_naming_it(string roleMatches)
    {
        var error = Assert.Throws<FormatException>(() => RoleRestriction.Parse(roleMatches));

        Assert.Contains($"\"{roleMatches}\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_restriction_reports_which_check_refused()
    {
        var restriction = TokenRestriction.Parse(["10.0.0.0/8"], ["10.66.0.0/16"], "^web-", "destination");

        Assert.True(restriction.IsAddressAllowed(IPAddress.Parse("10.1.1.1")));
        Assert.False(restriction.IsAddressAllowed(IPAddress.Parse("10.66.1.1")));
        Assert.Null(restriction.CheckEndpoint("web-1", Role.Destination));
        Assert.Equal(ConnetErrorCode.EndpointNotAllowed, restriction.CheckEndpoint("db-1", Role.Destination));
        Assert.Equal(ConnetErrorCode.RoleNotAllowed, restriction.CheckEndpoint("web-1", Role.Source));
    }

    [Fact]
    public void Token_restriction_with_no_fields_allows_everything()
    {
        var restriction = TokenRestriction.Parse(null, null, null, null);

        Assert.True(restriction.IsAddressAllowed(IPAddress.Parse("203.0.113.1")));
        Assert.Null(restriction.CheckEndpoint("anything", Role.Source));
        Assert.Null(TokenRestriction.AllowAll.CheckEndpoint("anything", Role.Destination));
    }
}
