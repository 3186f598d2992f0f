using Connet.Core.Protocol.Wire;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using ControlWire = Connet.Core.Protocol.Wire.Control;
using ControlRelaysWire = Connet.Core.Protocol.Wire.ControlRelays;
using PeerWire = Connet.Core.Protocol.Wire.Peer;
using RelayWire = Connet.Core.Protocol.Wire.Relay;

namespace Connet.Core.Tests.Protocol;

/// <summary>
/// The field numbers and enum values are the wire contract with Go connet (reference §2.3); this pins
/// every one of them, and that no message has a field the reference does not list.
/// </summary>
public class WireSchemaTests
{
    private static readonly Dictionary<string, Dictionary<string, int>> ExpectedFields = new()
    {
        ["connet.model.Addr"] = new() { ["v4"] = 1, ["v6"] = 2 },
        ["connet.model.AddrPort"] = new() { ["addr"] = 1, ["port"] = 2 },
        ["connet.model.HostPort"] = new() { ["host"] = 1, ["port"] = 2 },
        ["connet.model.Endpoint"] = new() { ["name"] = 1 },
        ["connet.error.Error"] = new() { ["code"] = 1, ["message"] = 2 },
        ["connet.control.AuthenticateReq"] = new() { ["token"] = 1, ["reconnect_token"] = 2, ["build_version"] = 3, ["metadata"] = 4 },
        ["connet.control.AuthenticateResp"] = new() { ["error"] = 1, ["public"] = 2, ["reconnect_token"] = 3 },
        ["connet.control.Request"] = new() { ["announce"] = 1, ["relay"] = 2 },
        ["connet.control.Request.Announce"] = new() { ["endpoint"] = 1, ["role"] = 2, ["peer"] = 3 },
        ["connet.control.Request.Relay"] = new() { ["endpoint"] = 1, ["role"] = 2, ["client_certificate"] = 3 },
        ["connet.control.Response"] = new() { ["error"] = 1, ["announce"] = 2, ["relays"] = 3 },
        ["connet.control.Response.Announce"] = new() { ["peers"] = 1 },
        ["connet.control.Response.RelayList"] = new() { ["relays"] = 2 },
        ["connet.control.Peer"] = new() { ["directs"] = 3, ["relay_ids"] = 6, ["server_certificate"] = 4, ["client_certificate"] = 5 },
        ["connet.control.RemotePeer"] = new() { ["id"] = 1, ["metadata"] = 9, ["peer"] = 8 },
        ["connet.control.Relay"] = new() { ["id"] = 1, ["addresses"] = 2, ["server_certificate"] = 3, ["authentication"] = 4, ["metadata"] = 5 },
        ["connet.control_relays.AuthenticateReq"] = new()
        {
            ["token"] = 1,
            ["addresses"] = 5,
            ["reconnect_token"] = 3,
            ["build_version"] = 4,
            ["metadata"] = 6,
            ["server_certificate"] = 7,
            ["relay_authentication_key"] = 8,
        },
        ["connet.control_relays.AuthenticateResp"] = new() { ["error"] = 1, ["control_id"] = 2, ["reconnect_token"] = 3, ["control_authentication_key"] = 4 },
        ["connet.control_relays.ClientAuthentication"] = new() { ["endpoint"] = 1, ["role"] = 2, ["certificate_key"] = 3 },
        ["connet.relay.AuthenticateReq"] = new() { ["authentication"] = 1, ["metadata"] = 2, ["build_version"] = 3 },
        ["connet.relay.AuthenticateResp"] = new() { ["error"] = 1 },
        ["connet.peer.Request"] = new() { ["connect"] = 1 },
        ["connet.peer.Request.Connect"] = new() { ["source_encryption"] = 1, ["source_tls"] = 2, ["source_dh_x25519"] = 3 },
        ["connet.peer.Response"] = new() { ["error"] = 1, ["connect"] = 2 },
        ["connet.peer.Response.Connect"] = new() { ["proxy_proto"] = 1, ["destination_encryption"] = 2, ["destination_tls"] = 3, ["destination_dh_x25519"] = 4 },
        ["connet.peer.TLSConfiguration"] = new() { ["client_name"] = 1 },
        ["connet.peer.ECDHConfiguration"] = new() { ["client_name"] = 1, ["key_time"] = 2, ["signature"] = 3 },
    };

    private static IEnumerable<FileDescriptor> Files =>
    [
        ModelReflection.Descriptor,
        ErrorReflection.Descriptor,
        ControlWire.ControlReflection.Descriptor,
        ControlRelaysWire.ControlRelaysReflection.Descriptor,
        RelayWire.RelayReflection.Descriptor,
        PeerWire.PeerReflection.Descriptor,
    ];

    [Fact]
    public void Every_message_has_exactly_the_reference_field_numbers()
    {
        var actual = Files.SelectMany(file => AllMessages(file.MessageTypes))
            .ToDictionary(message => message.FullName, message => message.Fields.InDeclarationOrder().ToDictionary(field => field.Name, field => field.FieldNumber));

        Assert.Equal(ExpectedFields.Keys.Order(), actual.Keys.Order());
        foreach (var (message, fields) in ExpectedFields)
        {
            Assert.Equal(fields.OrderBy(pair => pair.Key), actual[message].OrderBy(pair => pair.Key));
        }
    }

    [Fact]
    public void Enums_have_the_reference_values()
    {
        Assert.Equal([("RoleUnknown", 0), ("RoleDestination", 1), ("RoleSource", 2)], EnumValues(ModelReflection.Descriptor, "Role"));
        Assert.Equal([("ProxyProtoNone", 0), ("V1", 1), ("V2", 2)], EnumValues(PeerWire.PeerReflection.Descriptor, "ProxyProtoVersion"));
        Assert.Equal([("EncryptionNone", 0), ("TLS", 1), ("DHX25519_CHACHAPOLY", 2)], EnumValues(PeerWire.PeerReflection.Descriptor, "RelayEncryptionScheme"));
        Assert.Equal(
            [
                ("Unknown", 0), ("RequestUnknown", 1), ("ConnectionCheckFailed", 2),
                ("AuthenticationFailed", 100), ("EndpointNotAllowed", 101), ("RoleNotAllowed", 102),
                ("AnnounceValidationFailed", 200), ("AnnounceInvalidClientCertificate", 201), ("AnnounceInvalidServerCertificate", 202),
                ("RelayValidationFailed", 300), ("RelayInvalidCertificate", 301), ("RelayKeepaliveClosed", 302),
                ("DirectConnectionClosed", 400), ("DirectKeepaliveClosed", 401),
                ("DestinationNotFound", 500), ("DestinationDialFailed", 501), ("DestinationRelayEncryptionError", 502),
            ],
            EnumValues(ErrorReflection.Descriptor, "Code"));
    }

    [Fact]
    public void Field_numbers_show_in_the_encoded_bytes()
    {
        // Google.Protobuf writes fields in field-number order. control.Peer: relay_ids is field 6 (tag 0x32) and server_certificate field 4 (tag 0x22).
        var peer = new ControlWire.Peer { RelayIds = { "r" }, ServerCertificate = ByteString.CopyFrom(0xAB) };
        Assert.Equal(new byte[] { 0x22, 0x01, 0xAB, 0x32, 0x01, (byte)'r' }, peer.ToByteArray());
    }

    private static IEnumerable<MessageDescriptor> AllMessages(IEnumerable<MessageDescriptor> messages) =>
        messages.SelectMany(message => AllMessages(message.NestedTypes).Prepend(message));

    private static List<(string Name, int Number)> EnumValues(FileDescriptor file, string enumName) =>
        [.. file.EnumTypes.Single(type => type.Name == enumName).Values.Select(value => (value.Name, value.Number))];
}
