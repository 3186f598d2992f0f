using System.Net;
using Connet.Client.Nat;

namespace Connet.Client.Tests.Nat;

public sealed class NatPmpProtocolTests
{
    [Fact]
    public void External_address_request_is_version_0_opcode_0()
    {
        Assert.Equal(new byte[] { 0, 0 }, NatPmpProtocol.EncodeExternalAddressRequest());
    }

    [Fact]
    public void Udp_map_request_has_the_rfc_layout_in_network_order()
    {
        byte[] request = NatPmpProtocol.EncodeMapUdpRequest(internalPort: 19192, suggestedExternalPort: 0x1234, lifetimeSeconds: 600);

        // version, opcode 1 (UDP), reserved, internal port 0x4AF8, suggested external port, lifetime 0x258.
        Assert.Equal(new byte[] { 0, 1, 0, 0, 0x4A, 0xF8, 0x12, 0x34, 0, 0, 0x02, 0x58 }, request);
    }

    [Fact]
    public void Delete_request_has_lifetime_and_external_port_zero()
    {
        Assert.Equal(new byte[] { 0, 1, 0, 0, 0x4A, 0xF8, 0, 0, 0, 0, 0, 0 }, NatPmpProtocol.EncodeMapUdpRequest(19192, 0, 0));
    }

    [Fact]
    public void External_address_response_is_read()
    {
        byte[] answer = [0, 128, 0, 0, 0, 0, 0x01, 0x02, 203, 0, 113, 7];

        Assert.True(NatPmpProtocol.TryParseExternalAddressResponse(answer, out var response, out string? problem), problem);
        Assert.Equal(0x0102u, response.Epoch);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), response.Address);
    }

    [Fact]
    public void Udp_map_response_is_read()
    {
        byte[] answer = [0, 129, 0, 0, 0, 0, 0, 9, 0x4A, 0xF8, 0x9C, 0x40, 0, 0, 0x02, 0x58];

        Assert.True(NatPmpProtocol.TryParseMapUdpResponse(answer, out var response, out string? problem), problem);
        Assert.Equal(new NatPmpUdpMapping(9, 19192, 40000, 600), response);
    }

    [Theory]
    [InlineData(new byte[] { 0, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3 }, "11 bytes instead of 12")]
    [InlineData(new byte[] { 0, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5 }, "13 bytes instead of 12")]
    [InlineData(new byte[] { 0, 129, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 }, "opcode 129 instead of 128")]
    [InlineData(new byte[] { 2, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 }, "version 2 instead of 0")]
    [InlineData(new byte[] { 0, 128, 0 }, "3 bytes is too short")]
    [InlineData(new byte[] { 0, 128, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0 }, "result 2: not authorized")]
    [InlineData(new byte[] { 0, 128, 0, 3, 0, 0, 0, 1 }, "result 3: network failure")]
    [InlineData(new byte[] { 0, 128, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0 }, "unknown result code 65535")]
    public void Unusable_external_address_answers_say_what_is_wrong(byte[] answer, string expected)
    {
        Assert.False(NatPmpProtocol.TryParseExternalAddressResponse(answer, out _, out string? problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0, 129, 0, 0, 0, 0, 0, 9, 0x4A, 0xF8, 0x9C, 0x40, 0, 0, 0x02 }, "15 bytes instead of 16")]
    [InlineData(new byte[] { 0, 130, 0, 0, 0, 0, 0, 9, 0x4A, 0xF8, 0x9C, 0x40, 0, 0, 0x02, 0x58 }, "opcode 130 instead of 129")]
    [InlineData(new byte[] { 0, 129, 0, 4, 0, 0, 0, 9, 0x4A, 0xF8, 0, 0, 0, 0, 0, 0 }, "out of resources")]
    public void Unusable_map_answers_say_what_is_wrong(byte[] answer, string expected)
    {
        Assert.False(NatPmpProtocol.TryParseMapUdpResponse(answer, out _, out string? problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1000u, 999u, 0, true)]
    [InlineData(1000u, 1060u, 60, false)]
    [InlineData(1000u, 1052u, 60, false)]
    [InlineData(1000u, 1005u, 60, true)]
    [InlineData(1000u, 1000u, 1, false)]
    public void Epoch_going_back_or_lagging_our_clock_means_the_gateway_lost_its_mappings(uint previous, uint epoch, int elapsedSeconds, bool reset)
    {
        Assert.Equal(reset, NatPmpClient.EpochShowsReset(previous, epoch, TimeSpan.FromSeconds(elapsedSeconds)));
    }

    [Fact]
    public void Default_gateway_is_read_from_proc_net_route()
    {
        const string Table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
            + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";

        Assert.Equal(IPAddress.Parse("192.168.1.1"), NatPmpGateway.ParseDefaultGateway(Table));
    }

    [Theory]
    [InlineData("Iface\tDestination\tGateway\n")]
    [InlineData("Iface\tDestination\tGateway\nnot a route at all\n")]
    [InlineData("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n eth0\t00000000\t0101A8C0\t0001\t0\t0\t0\t00000000\n")]
    public void No_default_route_with_a_gateway_gives_none(string table)
    {
        Assert.Null(NatPmpGateway.ParseDefaultGateway(table));
    }

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.0.10", true)]
    [InlineData("192.169.0.10", false)]
    [InlineData("203.0.113.7", false)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("fd00::1", false)]
    public void Only_rfc1918_addresses_are_private(string address, bool isPrivate)
    {
        Assert.Equal(isPrivate, NatPmpGateway.IsPrivate(IPAddress.Parse(address)));
    }
}
