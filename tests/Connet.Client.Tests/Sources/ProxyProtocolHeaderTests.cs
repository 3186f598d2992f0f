using System.Net;
using System.Text;
using Connet.Client.Tunnels.Sources;

namespace Connet.Client.Tests.Sources;

/// <summary>The PROXY header bytes against the examples and layouts of HAProxy's proxy-protocol.txt.</summary>
public sealed class ProxyProtocolHeaderTests
{
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    [Fact]
    public void V1_tcp4_is_the_spec_example_line()
    {
        byte[] header = ProxyProtocolHeader.Create(ConnetProxyProtocol.V1, IPEndPoint.Parse("192.168.0.1:56324"), IPEndPoint.Parse("192.168.0.11:443"));

        Assert.Equal("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", Encoding.ASCII.GetString(header));
    }

    [Fact]
    public void V1_tcp6_worst_case_is_the_spec_maximum_of_104_bytes()
    {
        var all = IPEndPoint.Parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

        byte[] header = ProxyProtocolHeader.Create(ConnetProxyProtocol.V1, all, all);

        Assert.Equal("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", Encoding.ASCII.GetString(header));
        Assert.Equal(104, header.Length);
    }

    [Fact]
    public void V1_unmaps_ipv4_addresses_of_a_dual_mode_listener_and_drops_scope_ids()
    {
        byte[] mapped = ProxyProtocolHeader.Create(ConnetProxyProtocol.V1, IPEndPoint.Parse("[::ffff:10.0.0.1]:1000"), IPEndPoint.Parse("[::ffff:10.0.0.2]:2000"));
        byte[] scoped = ProxyProtocolHeader.Create(ConnetProxyProtocol.V1, IPEndPoint.Parse("[fe80::1%2]:1000"), IPEndPoint.Parse("[fe80::2%2]:2000"));

        Assert.Equal("PROXY TCP4 10.0.0.1 10.0.0.2 1000 2000\r\n", Encoding.ASCII.GetString(mapped));
        Assert.Equal("PROXY TCP6 fe80::1 fe80::2 1000 2000\r\n", Encoding.ASCII.GetString(scoped));
    }

    [Fact]
    public void V2_tcp4_is_signature_command_family_length_addresses_ports()
    {
        byte[] header = ProxyProtocolHeader.Create(ConnetProxyProtocol.V2, IPEndPoint.Parse("192.168.0.1:56324"), IPEndPoint.Parse("192.168.0.11:443"));

        byte[] expected =
        [
            .. V2Signature,
            0x21, // version 2, PROXY
            0x11, // AF_INET, STREAM
            0x00, 0x0C, // 12 address bytes follow
            192, 168, 0, 1,
            192, 168, 0, 11,
            0xDC, 0x04, // 56324
            0x01, 0xBB, // 443
        ];
        Assert.Equal(expected, header);
    }

    [Fact]
    public void V2_tcp6_carries_36_address_bytes()
    {
        byte[] header = ProxyProtocolHeader.Create(ConnetProxyProtocol.V2, IPEndPoint.Parse("[2001:db8::1]:1"), IPEndPoint.Parse("[2001:db8::2]:65535"));

        byte[] expected =
        [
            .. V2Signature,
            0x21,
            0x21, // AF_INET6, STREAM
            0x00, 0x24, // 36
            .. IPAddress.Parse("2001:db8::1").GetAddressBytes(),
            .. IPAddress.Parse("2001:db8::2").GetAddressBytes(),
            0x00, 0x01,
            0xFF, 0xFF,
        ];
        Assert.Equal(expected, header);
    }

    [Fact]
    public void Mixed_families_are_both_written_as_ipv6()
    {
        byte[] header = ProxyProtocolHeader.Create(ConnetProxyProtocol.V1, IPEndPoint.Parse("10.0.0.1:1"), IPEndPoint.Parse("[2001:db8::2]:2"));

        Assert.Equal("PROXY TCP6 ::ffff:10.0.0.1 2001:db8::2 1 2\r\n", Encoding.ASCII.GetString(header));
    }

    [Fact]
    public void None_has_no_header()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProxyProtocolHeader.Create(ConnetProxyProtocol.None, IPEndPoint.Parse("10.0.0.1:1"), IPEndPoint.Parse("10.0.0.2:2")));
    }
}
