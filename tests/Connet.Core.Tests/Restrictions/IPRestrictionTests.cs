using System.Net;
using Connet.Core.Restrictions;

namespace Connet.Core.Tests.Restrictions;

public class IPRestrictionTests
{
    [Theory]
    // No lists: everything allowed.
    [InlineData(new string[0], new string[0], "10.1.2.3", true)]
    [InlineData(new string[0], new string[0], "2001:db8::1", true)]
    // Allow list only: members allowed, the rest refused.
    [InlineData(new[] { "10.0.0.0/8" }, new string[0], "10.255.0.1", true)]
    [InlineData(new[] { "10.0.0.0/8" }, new string[0], "11.0.0.1", false)]
    [InlineData(new[] { "10.0.0.0/8" }, new string[0], "2001:db8::1", false)]
    [InlineData(new[] { "2001:db8::/32" }, new string[0], "2001:db8:ffff::1", true)]
    [InlineData(new[] { "2001:db8::/32" }, new string[0], "2001:db9::1", false)]
    // Deny list only: members refused, the rest allowed.
    [InlineData(new string[0], new[] { "192.168.0.0/16" }, "192.168.7.7", false)]
    [InlineData(new string[0], new[] { "192.168.0.0/16" }, "192.169.0.1", true)]
    [InlineData(new string[0], new[] { "fe80::/10" }, "fe80::1", false)]
    // Deny wins over allow.
    [InlineData(new[] { "10.0.0.0/8" }, new[] { "10.1.0.0/16" }, "10.1.2.3", false)]
    [InlineData(new[] { "10.0.0.0/8" }, new[] { "10.1.0.0/16" }, "10.2.0.1", true)]
    [InlineData(new[] { "0.0.0.0/0", "::/0" }, new[] { "203.0.113.7/32" }, "203.0.113.7", false)]
    [InlineData(new[] { "0.0.0.0/0", "::/0" }, new[] { "203.0.113.7/32" }, "203.0.113.8", true)]
    // IPv4-mapped addresses are checked as IPv4.
    [InlineData(new[] { "10.0.0.0/8" }, new string[0], "::ffff:10.1.2.3", true)]
    [InlineData(new string[0], new[] { "10.0.0.0/8" }, "::ffff:10.1.2.3", false)]
    [InlineData(new[] { "::/0" }, new string[0], "::ffff:10.1.2.3", false)]
    // Host bits in a CIDR are masked off, as Go's Prefix.Contains does.
    [InlineData(new[] { "10.9.9.9/8" }, new string[0], "10.0.0.1", true)]
    // A single address.
    [InlineData(new[] { "127.0.0.1/32", "::1/128" }, new string[0], "127.0.0.1", true)]
    [InlineData(new[] { "127.0.0.1/32", "::1/128" }, new string[0], "127.0.0.2", false)]
    [InlineData(new[] { "127.0.0.1/32", "::1/128" }, new string[0], "::1", true)]
    public void Matrix(string[] allows, string[] denies, string address, bool allowed)
    {
        var restriction = IPRestriction.Parse(allows, denies);

        Assert.Equal(allowed, restriction.IsAllowed(IPAddress.Parse(address)));
    }

    [Fact]
    public void Zoned_link_local_address_is_still_subject_to_deny()
    {
        var restriction = IPRestriction.Parse(null, ["fe80::/10"]);

        Assert.False(restriction.IsAllowed(IPAddress.Parse("fe80::1%2")));
    }

    [Fact]
    public void Endpoint_overload_checks_the_address_and_refuses_non_ip_endpoints()
    {
        var restriction = IPRestriction.Parse(["10.0.0.0/8"], null);

        Assert.True(restriction.IsAllowed(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 19190)));
        Assert.False(restriction.IsAllowed(new IPEndPoint(IPAddress.Parse("11.0.0.1"), 19190)));
        Assert.False(restriction.IsAllowed(new DnsEndPoint("localhost", 19190)));
        Assert.False(IPRestriction.AllowAll.IsAllowed(new DnsEndPoint("localhost", 19190)));
    }

    [Fact]
    public void Empty_and_null_lists_allow_all()
    {
        var restriction = IPRestriction.Parse(null, []);

        Assert.True(restriction.IsEmpty);
        Assert.True(restriction.IsAllowed(IPAddress.Parse("198.51.100.1")));
        Assert.True(IPRestriction.AllowAll.IsAllowed(IPAddress.IPv6Loopback));
    }

    [Fact]
    public void Parsed_networks_are_exposed()
    {
        var restriction = IPRestriction.Parse(["10.9.0.0/8"], ["2001:db8::/32"]);

        Assert.Equal([IPNetwork.Parse("10.0.0.0/8")], restriction.Allows);
        Assert.Equal([IPNetwork.Parse("2001:db8::/32")], restriction.Denies);
        Assert.False(restriction.IsEmpty);
    }

    [Theory]
    [InlineData("10.0.0.0", "no '/'")]
    [InlineData("10.0.0/8", "\"10.0.0\" is not an IP address")]
    [InlineData("10/8", "\"10\" is not an IP address")]
    [InlineData("010.0.0.0/8", "is not an IP address")]
    [InlineData("0x0a.0.0.0/8", "is not an IP address")]
    [InlineData("not-an-ip/8", "is not an IP address")]
    [InlineData("[2001:db8::]/32", "is not an IP address")]
    [InlineData("fe80::%eth0/64", "zone")]
    [InlineData("10.0.0.0/33", "from 0 to 32")]
    [InlineData("2001:db8::/129", "from 0 to 128")]
    [InlineData("10.0.0.0/-1", "from 0 to 32")]
    [InlineData("10.0.0.0/08", "from 0 to 32")]
    [InlineData("10.0.0.0/", "from 0 to 32")]
    [InlineData("10.0.0.0/ 8", "from 0 to 32")]
    public void Bad_cidr_is_rejected_with_a_message_naming_it(string cidr, string reason)
    {
        var error = Assert.Throws<FormatException>(() => IPRestriction.ParseCidr(cidr));

        Assert.Contains($"\"{cidr}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_cidr_in_a_list_names_the_list_and_the_value()
    {
        var allowError = Assert.Throws<FormatException>(() => IPRestriction.Parse(["10.0.0.0/8", "10.0.0.0/40"], null));
        var denyError = Assert.Throws<FormatException>(() => IPRestriction.Parse(null, ["bogus"]));

        Assert.StartsWith("Invalid allow CIDR: \"10.0.0.0/40\"", allowError.Message, StringComparison.Ordinal);
        Assert.StartsWith("Invalid deny CIDR: \"bogus\"", denyError.Message, StringComparison.Ordinal);
    }
}
