using System.Net;
using System.Security.Cryptography;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Quic;

namespace Connet.Relay.Tests;

public sealed class RelayServerTests
{
    private const string EndpointName = "web";

    [Fact]
    public async Task Authenticates_to_control_with_hostports_certificate_and_box_key()
    {
        await using var control = new FakeControl();
        var options = RelayTestKit.Options(control);
        options.Ingresses[0].Hostports = ["relay.example.com:1234", "[2001:db8::1]:19191"];
        options.Ingresses.Add(new RelayIngress { Address = new IPEndPoint(IPAddress.Loopback, 0) });
        await using var relay = await RelayTestKit.StartRelayAsync(control, options);

        var request = await control.NextRequestAsync();
        var status = relay.GetStatus();
        Assert.Equal(RelayTestKit.RelayToken, request.Token);
        Assert.Equal("test-relay", request.Metadata);
        Assert.Equal(
            ["relay.example.com:1234", "2001:db8::1:19191", $"localhost:{status.IngressEndPoints[1].Port}"],
            request.Addresses.Select(address => $"{address.Host}:{address.Port}"));
        Assert.Equal(relay.ServerCertificate!.RawData, request.ServerCertificate.ToByteArray());
        Assert.Equal(32, request.RelayAuthenticationKey.Length);
        Assert.True(request.ReconnectToken.IsEmpty);

        Assert.Equal(RelayControlState.Connected, status.ControlState);
        Assert.Equal("control-1", status.ControlId);
        Assert.Equal(2, status.IngressEndPoints.Count);
        Assert.Equal(3, status.Hostports.Count);

        // Dialed from the first ingress's socket, so control sees the address clients reach.
        Assert.Equal(status.IngressEndPoints[0].Port, control.LastRelayAddress!.Port);
    }

    [Fact]
    public async Task Legacy_control_is_spoken_with_8_byte_framing()
    {
        await using var control = new FakeControl(legacyOnly: true);
        await using var relay = await RelayTestKit.StartRelayAsync(control);

        var request = await control.NextRequestAsync();

        Assert.Equal(WireVersion.Legacy, control.LastWireVersion);
        Assert.Equal(RelayTestKit.RelayToken, request.Token);
        Assert.Equal(RelayControlState.Connected, relay.GetStatus().ControlState);
        await using var destination = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Control_with_an_untrusted_certificate_or_another_name_is_not_authenticated_to(bool wrongName)
    {
        await using var control = new FakeControl();
        var options = RelayTestKit.Options(control);
        if (wrongName)
        {
            options.ControlServerName = "other.connet.test";
        }
        else
        {
            options.ControlCertificateAuthorities = [RelayTestKit.CreateSelfSigned(RelayTestKit.ControlName)];
        }

        await using var relay = await RelayTestKit.StartRelayAsync(control, options);

        var status = relay.GetStatus();
        Assert.Equal(RelayControlState.Reconnecting, status.ControlState);
        Assert.NotNull(status.LastError);
        Assert.Null(status.ControlId);
        Assert.Null(control.SharedKey);
    }

    [Fact]
    public async Task Wrong_token_makes_StartAsync_throw_AuthenticationFailed()
    {
        await using var control = new FakeControl();
        await using var relay = new RelayServer(RelayTestKit.Options(control, token: "wrong"));

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(() => relay.StartAsync(CancellationToken.None).WaitAsync(RelayTestKit.Guard));

        Assert.Equal(ConnetErrorCode.AuthenticationFailed, refused.Code);
        Assert.Contains("unknown relay token", refused.Message, StringComparison.Ordinal);
        Assert.Equal(RelayControlState.AuthenticationFailed, relay.GetStatus().ControlState);
    }

    [Fact]
    public async Task Restart_sends_the_stored_reconnect_token_and_refuses_a_changed_control_id()
    {
        using var directory = new TemporaryDirectory();
        await using var control = new FakeControl();
        await using (var first = await RelayTestKit.StartRelayAsync(control, RelayTestKit.Options(control, storeDirectory: directory.Path)))
        {
            Assert.True((await control.NextRequestAsync()).ReconnectToken.IsEmpty);
        }

        await using (var second = await RelayTestKit.StartRelayAsync(control, RelayTestKit.Options(control, storeDirectory: directory.Path)))
        {
            Assert.Equal(control.ReconnectToken, (await control.NextRequestAsync()).ReconnectToken);
            Assert.Equal(RelayControlState.Connected, second.GetStatus().ControlState);
        }

        control.ControlId = "another-control";
        await using var third = await RelayTestKit.StartRelayAsync(control, RelayTestKit.Options(control, storeDirectory: directory.Path));
        await control.NextRequestAsync();
        var status = third.GetStatus();
        Assert.Equal(RelayControlState.Reconnecting, status.ControlState);
        Assert.Equal("control-1", status.ControlId);
        Assert.Contains("another-control", status.LastError, StringComparison.Ordinal);

        // The other control server's key was never adopted: clients it sealed for us are refused.
        await using var client = await FakeRelayClient.ConnectAsync(third);
        var response = await client.AuthenticateAsync(control.Seal(EndpointName, Role.Source, client.Certificates.Client));
        Assert.Equal(Code.AuthenticationFailed, response.Error.Code);
    }

    [Fact]
    public async Task Client_with_a_box_not_sealed_by_control_is_refused()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var client = await FakeRelayClient.ConnectAsync(relay);
        var (_, otherPublic) = Connet.Core.Crypto.NaClBox.GenerateKeyPair();
        var (otherPrivate, _) = Connet.Core.Crypto.NaClBox.GenerateKeyPair();
        var wrongKey = Connet.Core.Crypto.NaClBox.Precompute(otherPublic, otherPrivate);

        var response = await client.AuthenticateAsync(control.Seal(EndpointName, Role.Source, client.Certificates.Client, wrongKey));

        Assert.Equal(Code.AuthenticationFailed, response.Error.Code);
        Assert.Contains("not sealed by this relay's control server", response.Error.Message, StringComparison.Ordinal);
        Assert.Empty(relay.GetStatus().Endpoints);
    }

    [Fact]
    public async Task Client_presenting_another_certificate_than_control_sealed_is_refused()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var client = await FakeRelayClient.ConnectAsync(relay);
        using var other = PeerCertificates.Create();

        var response = await client.AuthenticateAsync(control.Seal(EndpointName, Role.Destination, other.Client));

        Assert.Equal(Code.AuthenticationFailed, response.Error.Code);
        Assert.Contains(CertificateKey.Compute(client.Certificates.Client.RawData), response.Error.Message, StringComparison.Ordinal);
        Assert.Empty(relay.GetStatus().Endpoints);
    }

    [Fact]
    public async Task Source_stream_is_spliced_to_a_destination_10_MiB_byte_identical_both_ways()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination));
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);
        Assert.Equal([new RelayEndpointStatus(EndpointName, 1, 1)], relay.GetStatus().Endpoints);

        var request = new Request { Connect = new() { SourceEncryption = { RelayEncryptionScheme.Tls }, SourceTls = new() { ClientName = "source.example" } } };
        var (stream, response) = await source.ConnectAsync(request);
        await using var tunnel = stream;
        Assert.Null(response.Error);
        Assert.NotNull(response.Connect);
        Assert.True(destination.Requests.TryPeek(out var forwarded));
        Assert.Equal(request, forwarded);

        byte[] payload = RandomNumberGenerator.GetBytes(10 * 1024 * 1024);
        var echoed = RelayTestKit.ReadToEndAsync(tunnel, payload.Length);
        await tunnel.WriteAsync(payload).AsTask().WaitAsync(RelayTestKit.Guard);
        tunnel.CompleteWrites();
        Assert.Equal(payload, await echoed);
    }

    [Fact]
    public async Task Legacy_source_reaches_a_current_destination_each_in_its_own_framing()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination));
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source, legacy: true);

        var (stream, response) = await source.ConnectAsync();
        await using var tunnel = stream;
        Assert.NotNull(response.Connect);
        byte[] payload = RandomNumberGenerator.GetBytes(4096);
        var echoed = RelayTestKit.ReadToEndAsync(tunnel, payload.Length);
        await tunnel.WriteAsync(payload);
        tunnel.CompleteWrites();
        Assert.Equal(payload, await echoed);
    }

    [Fact]
    public async Task Source_without_a_destination_gets_DestinationNotFound()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var elsewhere = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, "other-endpoint", Role.Destination));
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);

        var (stream, response) = await source.ConnectAsync();
        await stream.DisposeAsync();

        Assert.Equal(Code.DestinationNotFound, response.Error.Code);
        Assert.Contains(EndpointName, response.Error.Message, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task Destination_error_reaches_the_source()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination))
        {
            Answer = _ => new Response { Error = ConnetError.ToWireError(ConnetErrorCode.DestinationRelayEncryptionError, "no common relay encryption") },
        };
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);

        var (stream, response) = await source.ConnectAsync();
        await stream.DisposeAsync();

        Assert.Equal(Code.DestinationRelayEncryptionError, response.Error.Code);
        Assert.Equal("no common relay encryption", response.Error.Message);
    }

    [Fact]
    public async Task A_failing_destination_is_skipped_for_a_working_one()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var broken = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination))
        {
            AbortWith = (long)ConnetErrorCode.DestinationDialFailed,
        };
        await using var working = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination));
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);

        // Whichever the RTT order, every connect ends on the working destination.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var (stream, response) = await source.ConnectAsync();
            await using var tunnel = stream;
            Assert.NotNull(response.Connect);
            var echoed = RelayTestKit.ReadToEndAsync(tunnel, 5);
            await tunnel.WriteAsync("hello"u8.ToArray());
            tunnel.CompleteWrites();
            Assert.Equal("hello"u8.ToArray(), await echoed);
        }

        Assert.Equal(3, working.Requests.Count);
    }

    [Fact]
    public async Task Every_destination_failing_gives_DestinationDialFailed_naming_how_many_were_tried()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var first = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination)) { AbortWith = 0 };
        await using var second = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination)) { AbortWith = 0 };
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);

        var (stream, response) = await source.ConnectAsync();
        await stream.DisposeAsync();

        Assert.Equal(Code.DestinationDialFailed, response.Error.Code);
        Assert.Contains("none of the 2 destinations", response.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Destination_closing_mid_transfer_aborts_the_source_stream()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination));
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);
        var (stream, response) = await source.ConnectAsync();
        await using var tunnel = stream;
        Assert.NotNull(response.Connect);
        await tunnel.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        await tunnel.ReadExactlyAsync(buffer).AsTask().WaitAsync(RelayTestKit.Guard);

        // Abruptly, as a crashed destination: no FIN on its streams, only the connection close.
        await destination.Client.Connection.CloseAsync((long)ConnetErrorCode.DirectConnectionClosed).AsTask().WaitAsync(RelayTestKit.Guard);

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            // Bounded: the relay aborts the stream, so this ends with an exception rather than data or a clean end.
            for (int read = 0; read < 1000; read++)
            {
                if (await tunnel.ReadAsync(buffer).AsTask().WaitAsync(RelayTestKit.Guard) == 0)
                {
                    return;
                }
            }
        });
    }

    [Fact]
    public async Task Garbage_from_a_source_closes_that_client_and_others_keep_working()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination));
        await using var rogue = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);
        await using var honest = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);

        await using (var stream = await rogue.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional))
        {
            // A length prefix of 1 GiB: far beyond what the relay reads for a request.
            await stream.WriteAsync(new byte[] { 0x40, 0, 0, 0, 1, 2, 3 });
            await Assert.ThrowsAsync<QuicException>(() => rogue.Connection.AcceptInboundStreamAsync().AsTask().WaitAsync(RelayTestKit.Guard));
        }

        var (tunnel, response) = await honest.ConnectAsync();
        await using var honestTunnel = tunnel;
        Assert.NotNull(response.Connect);
        Assert.Equal([new RelayEndpointStatus(EndpointName, 1, 1)], relay.GetStatus().Endpoints);
    }

    [Fact]
    public async Task Garbage_authentication_frame_closes_the_client()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var client = await FakeRelayClient.ConnectAsync(relay);
        await using var stream = await client.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);

        await stream.WriteAsync(new byte[] { 0, 0, 0, 3, 0xFF, 0xFF, 0xFF });
        stream.CompleteWrites();

        await Assert.ThrowsAsync<QuicException>(() => client.Connection.AcceptInboundStreamAsync().AsTask().WaitAsync(RelayTestKit.Guard));
    }

    [Fact]
    public async Task Streams_opened_by_a_destination_are_refused_with_RequestUnknown()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination);

        await using var stream = await destination.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await MessageFraming.WriteAsync(stream, new Request { Connect = new() }, destination.WireVersion);
        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await MessageFraming.ReadAsync<Response>(stream, destination.WireVersion).AsTask().WaitAsync(RelayTestKit.Guard));

        Assert.Equal(ConnetErrorCode.RequestUnknown, refused.Code);
    }

    [Fact]
    public async Task Non_connect_request_from_a_source_gets_RequestUnknown()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);

        var (stream, response) = await source.ConnectAsync(new Request());
        await stream.DisposeAsync();

        Assert.Equal(Code.RequestUnknown, response.Error.Code);
    }

    [Fact]
    public async Task Closed_clients_leave_the_status()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);
        Assert.Equal([new RelayEndpointStatus(EndpointName, 0, 1)], relay.GetStatus().Endpoints);

        await source.Connection.CloseAsync(0);
        await source.DisposeAsync();

        // Bounded poll for the relay to notice the close (no timing is asserted).
        for (int poll = 0; poll < 200 && relay.GetStatus().Endpoints.Count > 0; poll++)
        {
            await Task.Delay(50);
        }

        Assert.Empty(relay.GetStatus().Endpoints);
    }

    [Fact]
    public async Task Relay_reconnects_to_control_and_keeps_accepting_clients()
    {
        await using var control = new FakeControl();
        await using var relay = await RelayTestKit.StartRelayAsync(control);
        await control.NextRequestAsync();

        await control.DropRelaysAsync();

        var again = await control.NextRequestAsync();
        Assert.Equal(control.ReconnectToken, again.ReconnectToken);
        await using var destination = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination);
    }

    [Fact]
    public async Task Stopping_the_relay_ends_control_clients_and_splices()
    {
        await using var control = new FakeControl();
        var relay = await RelayTestKit.StartRelayAsync(control);
        await using var destination = new EchoDestination(await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Destination));
        await using var source = await FakeRelayClient.AuthenticatedAsync(relay, control, EndpointName, Role.Source);
        var (stream, response) = await source.ConnectAsync();
        await using var tunnel = stream;
        Assert.NotNull(response.Connect);

        await relay.DisposeAsync().AsTask().WaitAsync(RelayTestKit.Guard);

        Assert.Equal(RelayControlState.Stopped, relay.GetStatus().ControlState);
        await Assert.ThrowsAsync<QuicException>(() => source.Connection.AcceptInboundStreamAsync().AsTask().WaitAsync(RelayTestKit.Guard));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var buffer = new byte[16];
            for (int read = 0; read < 1000; read++)
            {
                if (await tunnel.ReadAsync(buffer).AsTask().WaitAsync(RelayTestKit.Guard) == 0)
                {
                    return;
                }
            }
        });
    }
}

internal sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("connet-relay-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
