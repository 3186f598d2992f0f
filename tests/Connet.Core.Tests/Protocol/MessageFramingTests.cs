using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Reflection;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Quic;
using Google.Protobuf;
using ControlWire = Connet.Core.Protocol.Wire.Control;
using ControlRelaysWire = Connet.Core.Protocol.Wire.ControlRelays;
using PeerWire = Connet.Core.Protocol.Wire.Peer;
using RelayWire = Connet.Core.Protocol.Wire.Relay;

namespace Connet.Core.Tests.Protocol;

public class MessageFramingTests
{
    private static readonly ByteString Certificate = ByteString.CopyFrom([0x30, 0x82, 0x01, 0x0A, 0xFF]);

    public static TheoryData<WireVersion> Versions => new() { WireVersion.Current, WireVersion.Legacy };

    /// <summary>One populated instance of every message type, nested ones included.</summary>
    public static IEnumerable<IMessage> EveryMessage()
    {
        var endpoint = new Endpoint { Name = "web" };
        var addrPort = new AddrPort { Addr = new Addr { V4 = ByteString.CopyFrom([192, 0, 2, 1]) }, Port = 19192 };
        var v6AddrPort = new AddrPort { Addr = new Addr { V6 = ByteString.CopyFrom(new byte[16]) }, Port = 65535 };
        var hostPort = new HostPort { Host = "relay.example", Port = 19191 };
        var error = new Error { Code = Code.DestinationDialFailed, Message = "cannot dial active destinations" };
        var peer = new ControlWire.Peer { Directs = { addrPort, v6AddrPort }, RelayIds = { "relay-a", "relay-b" }, ServerCertificate = Certificate, ClientCertificate = Certificate };
        var remotePeer = new ControlWire.RemotePeer { Id = "peer-1", Metadata = "meta", Peer = peer };
        var relay = new ControlWire.Relay { Id = "relay-a", Addresses = { hostPort }, ServerCertificate = Certificate, Authentication = Certificate, Metadata = "m" };
        var tls = new PeerWire.TLSConfiguration { ClientName = "abc.connet.peer.invalid" };
        var ecdh = new PeerWire.ECDHConfiguration { ClientName = "abc.connet.peer.invalid", KeyTime = ByteString.CopyFrom(new byte[40]), Signature = ByteString.CopyFrom(new byte[64]) };

        yield return new Addr { V4 = ByteString.CopyFrom([10, 0, 0, 1]) };
        yield return addrPort;
        yield return hostPort;
        yield return endpoint;
        yield return error;
        yield return new ControlWire.AuthenticateReq { Token = "secret", ReconnectToken = Certificate, BuildVersion = "0.16.0", Metadata = "host=a" };
        yield return new ControlWire.AuthenticateResp { Error = error, Public = addrPort, ReconnectToken = Certificate };
        yield return new ControlWire.Request { Announce = new() { Endpoint = endpoint, Role = Role.Destination, Peer = peer } };
        yield return new ControlWire.Request { Relay = new() { Endpoint = endpoint, Role = Role.Source, ClientCertificate = Certificate } };
        yield return new ControlWire.Request.Types.Announce { Endpoint = endpoint, Role = Role.Source, Peer = peer };
        yield return new ControlWire.Request.Types.Relay { Endpoint = endpoint, Role = Role.Destination, ClientCertificate = Certificate };
        yield return new ControlWire.Response { Announce = new() { Peers = { remotePeer, remotePeer } } };
        yield return new ControlWire.Response { Relays = new() { Relays = { relay } } };
        yield return new ControlWire.Response { Error = error };
        yield return new ControlWire.Response.Types.Announce { Peers = { remotePeer } };
        yield return new ControlWire.Response.Types.RelayList { Relays = { relay, relay } };
        yield return peer;
        yield return remotePeer;
        yield return relay;
        yield return new ControlRelaysWire.AuthenticateReq
        {
            Token = "relay-token",
            Addresses = { hostPort },
            ReconnectToken = Certificate,
            BuildVersion = "0.16.0",
            Metadata = "r",
            ServerCertificate = Certificate,
            RelayAuthenticationKey = ByteString.CopyFrom(new byte[32]),
        };
        yield return new ControlRelaysWire.AuthenticateResp { Error = error, ControlId = "control-1", ReconnectToken = Certificate, ControlAuthenticationKey = ByteString.CopyFrom(new byte[32]) };
        yield return new ControlRelaysWire.ClientAuthentication { Endpoint = endpoint, Role = Role.Source, CertificateKey = "0123456789abcdefghijklmnopqrstuv" };
        yield return new RelayWire.AuthenticateReq { Authentication = Certificate, Metadata = "c", BuildVersion = "0.16.0" };
        yield return new RelayWire.AuthenticateResp { Error = error };
        yield return new PeerWire.Request
        {
            Connect = new()
            {
                SourceEncryption = { PeerWire.RelayEncryptionScheme.Tls, PeerWire.RelayEncryptionScheme.Dhx25519Chachapoly, PeerWire.RelayEncryptionScheme.EncryptionNone },
                SourceTls = tls,
                SourceDhX25519 = ecdh,
            },
        };
        yield return new PeerWire.Request.Types.Connect { SourceEncryption = { PeerWire.RelayEncryptionScheme.Tls } };
        yield return new PeerWire.Response
        {
            Error = error,
            Connect = new() { ProxyProto = PeerWire.ProxyProtoVersion.V2, DestinationEncryption = PeerWire.RelayEncryptionScheme.Dhx25519Chachapoly, DestinationTls = tls, DestinationDhX25519 = ecdh },
        };
        yield return new PeerWire.Response.Types.Connect { ProxyProto = PeerWire.ProxyProtoVersion.V1 };
        yield return tls;
        yield return ecdh;
    }

    [Fact]
    public void The_sample_set_covers_every_generated_message_type()
    {
        var generated = typeof(Error).Assembly.GetTypes()
            .Where(type => typeof(IMessage).IsAssignableFrom(type) && type is { IsClass: true, IsAbstract: false })
            .Select(type => type.FullName)
            .Order();
        Assert.Equal(generated, EveryMessage().Select(message => message.GetType().FullName).Distinct().Order());
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Every_message_type_round_trips_through_a_pipe(WireVersion version)
    {
        var pipe = new Pipe();
        var messages = EveryMessage().ToList();
        await using (var writer = pipe.Writer.AsStream())
        {
            foreach (var message in messages)
            {
                await MessageFraming.WriteAsync(writer, message, version);
            }
        }

        await using var reader = pipe.Reader.AsStream();
        foreach (var expected in messages)
        {
            var actual = await ReadAs(expected.GetType(), reader, version);
            Assert.Equal(expected, actual);
        }

        Assert.Null(await MessageFraming.ReadAsync<Endpoint>(reader, version));
    }

    [Fact]
    public async Task Current_version_writes_a_four_byte_big_endian_length_then_the_protobuf_bytes()
    {
        using var stream = new MemoryStream();
        await MessageFraming.WriteAsync(stream, new ControlWire.AuthenticateReq { Token = "abc" }, WireVersion.Current);

        Assert.Equal(new byte[] { 0, 0, 0, 5, 0x0A, 3, (byte)'a', (byte)'b', (byte)'c' }, stream.ToArray());
    }

    [Fact]
    public async Task Legacy_version_writes_an_eight_byte_big_endian_length()
    {
        using var stream = new MemoryStream();
        await MessageFraming.WriteAsync(stream, new ControlWire.AuthenticateReq { Token = "abc" }, WireVersion.Legacy);

        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 5, 0x0A, 3, (byte)'a', (byte)'b', (byte)'c' }, stream.ToArray());
    }

    [Fact]
    public async Task Legacy_frame_is_read_with_its_eight_byte_length()
    {
        using var stream = new MemoryStream([0, 0, 0, 0, 0, 0, 0, 2, 0x0A, 0]);

        var request = await MessageFraming.ReadAsync<ControlWire.AuthenticateReq>(stream, WireVersion.Legacy);

        Assert.NotNull(request);
        Assert.Equal(string.Empty, request.Token);
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public async Task Legacy_frame_read_as_current_is_not_mistaken_for_a_message()
    {
        // The 8-byte prefix's high half reads as a zero-length frame, and its low half as a length of 5 with too few bytes left.
        using var stream = new MemoryStream([0, 0, 0, 0, 0, 0, 0, 5, 0x0A, 3, (byte)'a']);

        var first = await MessageFraming.ReadAsync<ControlWire.AuthenticateReq>(stream, WireVersion.Current);
        Assert.Equal(new ControlWire.AuthenticateReq(), first);
        await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<ControlWire.AuthenticateReq>(stream, WireVersion.Current).AsTask());
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Empty_message_is_a_bare_zero_length_prefix(WireVersion version)
    {
        // The direct connection check writes an empty peer.Request.
        using var stream = new MemoryStream();
        await MessageFraming.WriteAsync(stream, new PeerWire.Request(), version);
        Assert.Equal(new byte[MessageFraming.PrefixLength(version)], stream.ToArray());

        stream.Position = 0;
        Assert.Equal(new PeerWire.Request(), await MessageFraming.ReadAsync<PeerWire.Request>(stream, version));
        Assert.Null(await MessageFraming.ReadAsync<PeerWire.Request>(stream, version));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Clean_end_of_stream_before_a_frame_reads_as_null(WireVersion version)
    {
        using var stream = new MemoryStream();
        Assert.Null(await MessageFraming.ReadAsync<PeerWire.Response>(stream, version));
    }

    [Fact]
    public async Task Declared_length_of_one_GiB_is_rejected_before_allocating_a_body()
    {
        using var stream = new MemoryStream([0x40, 0, 0, 0]);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<PeerWire.Response>(stream, WireVersion.Current).AsTask());

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Contains("1073741824", error.Message, StringComparison.Ordinal);
        Assert.Contains("16777216", error.Message, StringComparison.Ordinal);
        // A body buffer would be 1 GiB; what remains is the exception and the test's own bookkeeping.
        Assert.True(allocated < 4 * 1024 * 1024, $"reading the prefix allocated {allocated} bytes");
    }

    [Fact]
    public async Task Legacy_length_beyond_two_to_the_63_is_rejected_not_wrapped()
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(prefix, (1UL << 63) + 5);
        using var stream = new MemoryStream(prefix);

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<PeerWire.Response>(stream, WireVersion.Legacy).AsTask());

        Assert.Contains(((1UL << 63) + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Length_one_past_the_limit_is_rejected_but_the_limit_itself_is_accepted()
    {
        var overLimit = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(overLimit, MessageFraming.MaxMessageSize + 1);
        using var over = new MemoryStream(overLimit);
        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<PeerWire.Response>(over, WireVersion.Current).AsTask());
        Assert.Contains("16777217", error.Message, StringComparison.Ordinal);

        // Exactly the limit passes the length check and then fails only because the body is missing.
        var atLimit = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(atLimit, MessageFraming.MaxMessageSize);
        using var at = new MemoryStream(atLimit);
        var truncated = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<PeerWire.Response>(at, WireVersion.Current).AsTask());
        Assert.Contains("0 of the 16777216 body bytes", truncated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_cap_below_the_protocol_limit_refuses_larger_frames_and_names_the_cap()
    {
        var frame = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(frame, MessageFraming.MaxHandshakeMessageSize + 1);
        using var over = new MemoryStream(frame);

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() =>
            MessageFraming.ReadAsync<PeerWire.Request>(over, WireVersion.Current, MessageFraming.MaxHandshakeMessageSize, CancellationToken.None).AsTask());

        Assert.Contains($"more than the {MessageFraming.MaxHandshakeMessageSize}-byte limit", error.Message, StringComparison.Ordinal);
        Assert.True(MessageFraming.IsFramingViolation(error));
    }

    [Fact]
    public async Task Writing_a_message_over_the_limit_is_refused_and_writes_nothing()
    {
        using var stream = new MemoryStream();
        var huge = new RelayWire.AuthenticateReq { Authentication = ByteString.CopyFrom(new byte[MessageFraming.MaxMessageSize]) };

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.WriteAsync(stream, huge, WireVersion.Current).AsTask());

        Assert.Contains(huge.CalculateSize().ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stream.Length);
    }

    [Theory]
    [InlineData(WireVersion.Current, 2, "2 of the 4 length-prefix bytes")]
    [InlineData(WireVersion.Legacy, 7, "7 of the 8 length-prefix bytes")]
    public async Task End_of_stream_inside_the_prefix_is_an_error_naming_it(WireVersion version, int prefixBytes, string expected)
    {
        using var stream = new MemoryStream(new byte[prefixBytes]);

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<Endpoint>(stream, version).AsTask());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task End_of_stream_inside_the_body_is_an_error_naming_it()
    {
        using var stream = new MemoryStream([0, 0, 0, 10, 0x0A, 3, (byte)'w']);

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<Endpoint>(stream, WireVersion.Current).AsTask());

        Assert.Contains("3 of the 10 body bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(Endpoint), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_that_is_not_valid_protobuf_is_an_error_naming_the_type()
    {
        // Field 1, length-delimited, declaring 100 bytes inside a 2-byte body.
        using var stream = new MemoryStream([0, 0, 0, 2, 0x0A, 100]);

        var error = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<Endpoint>(stream, WireVersion.Current).AsTask());

        Assert.Contains(nameof(Endpoint), error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidProtocolBufferException>(error.InnerException);
    }

    [Fact]
    public async Task Frame_arriving_one_byte_at_a_time_is_reassembled()
    {
        var pipe = new Pipe();
        var expected = new ControlWire.RemotePeer { Id = "peer-7", Metadata = "slow", Peer = new() { RelayIds = { "r1" } } };
        using var frame = new MemoryStream();
        await MessageFraming.WriteAsync(frame, expected, WireVersion.Current);

        await using var reader = pipe.Reader.AsStream();
        var read = MessageFraming.ReadAsync<ControlWire.RemotePeer>(reader, WireVersion.Current).AsTask();
        foreach (var octet in frame.ToArray())
        {
            await pipe.Writer.WriteAsync(new[] { octet });
        }

        await pipe.Writer.CompleteAsync();
        Assert.Equal(expected, await read);
    }

    [Fact]
    public async Task Read_waiting_for_a_frame_is_cancellable()
    {
        var pipe = new Pipe();
        await using var reader = pipe.Reader.AsStream();
        using var cancellation = new CancellationTokenSource();

        var read = MessageFraming.ReadAsync<Endpoint>(reader, WireVersion.Current, cancellation.Token).AsTask();
        Assert.False(read.IsCompleted);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task Peer_abort_with_a_connet_code_surfaces_as_that_connet_error()
    {
        using var stream = new FailingStream(new QuicException(QuicError.StreamAborted, 501, "stream aborted by peer"));

        var readError = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.ReadAsync<Endpoint>(stream, WireVersion.Current).AsTask());
        var writeError = await Assert.ThrowsAsync<ConnetProtocolException>(() => MessageFraming.WriteAsync(stream, new Endpoint(), WireVersion.Current).AsTask());

        Assert.Equal(ConnetErrorCode.DestinationDialFailed, readError.Code);
        Assert.Equal(ConnetErrorCode.DestinationDialFailed, writeError.Code);
        Assert.IsType<QuicException>(readError.InnerException);
    }

    [Fact]
    public async Task Other_quic_failures_pass_through_unchanged()
    {
        using var stream = new FailingStream(new QuicException(QuicError.ConnectionTimeout, null, "timed out"));

        await Assert.ThrowsAsync<QuicException>(() => MessageFraming.ReadAsync<Endpoint>(stream, WireVersion.Current).AsTask());
    }

    private static async Task<IMessage?> ReadAs(Type messageType, Stream stream, WireVersion version)
    {
        var read = typeof(MessageFraming).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(method => method.Name == nameof(MessageFraming.ReadAsync) && method.GetParameters().Length == 3)
            .MakeGenericMethod(messageType);
        var pending = read.Invoke(null, [stream, version, CancellationToken.None])!;
        // ValueTask<T> of a runtime type: go through AsTask and Task's Result.
        var task = (Task)pending.GetType().GetMethod("AsTask")!.Invoke(pending, null)!;
        await task;
        return (IMessage?)task.GetType().GetProperty("Result")!.GetValue(task);
    }

    private sealed class FailingStream(Exception failure) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw failure;
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(failure);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException(failure);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw failure;
    }
}
