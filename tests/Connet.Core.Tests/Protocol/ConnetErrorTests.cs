using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Quic;

namespace Connet.Core.Tests.Protocol;

public class ConnetErrorTests
{
    [Fact]
    public void Error_codes_mirror_the_wire_enum_by_name_and_value()
    {
        var wire = Enum.GetValues<Code>().Select(code => (code.ToString(), (int)code));
        var local = Enum.GetValues<ConnetErrorCode>().Select(code => (code.ToString(), (int)code));

        Assert.Equal(wire, local);
    }

    [Fact]
    public void Every_code_has_its_own_description()
    {
        var descriptions = Enum.GetValues<ConnetErrorCode>().Select(code => code.Describe()).ToList();

        Assert.DoesNotContain(descriptions, description => description.StartsWith("unrecognised", StringComparison.Ordinal));
        Assert.Equal(descriptions.Count, descriptions.Distinct().Count());
        Assert.Equal("destination not found", ConnetErrorCode.DestinationNotFound.Describe());
    }

    [Fact]
    public void Code_from_a_newer_peer_is_described_by_its_number()
    {
        Assert.Equal("unrecognised error code 999", ((ConnetErrorCode)999).Describe());
    }

    [Fact]
    public void Wire_error_maps_to_an_exception_and_back()
    {
        var wire = new Error { Code = Code.RoleNotAllowed, Message = "role source is not allowed for this token" };

        var exception = wire.ToException();

        Assert.Equal(ConnetErrorCode.RoleNotAllowed, exception.Code);
        Assert.Equal("role source is not allowed for this token", exception.ErrorMessage);
        Assert.Equal("role not allowed (102): role source is not allowed for this token", exception.Message);
        Assert.Equal(wire, exception.ToWireError());
    }

    [Fact]
    public void Unknown_wire_code_survives_the_round_trip()
    {
        var wire = new Error { Code = (Code)777, Message = "future" };

        Assert.Equal(wire, wire.ToException().ToWireError());
    }

    [Fact]
    public void Throw_if_set_throws_only_for_a_present_error()
    {
        ConnetError.ThrowIfSet(null);

        var exception = Assert.Throws<ConnetProtocolException>(() => ConnetError.ThrowIfSet(new Error { Code = Code.AuthenticationFailed }));
        Assert.Equal(ConnetErrorCode.AuthenticationFailed, exception.Code);
        Assert.Equal("authentication failed (100)", exception.Message);
    }

    [Theory]
    [InlineData(QuicError.ConnectionAborted, 100L, ConnetErrorCode.AuthenticationFailed)]
    [InlineData(QuicError.StreamAborted, 500L, ConnetErrorCode.DestinationNotFound)]
    [InlineData(QuicError.StreamAborted, 1L << 40, ConnetErrorCode.Unknown)]
    public void Quic_application_errors_map_to_connet_codes(QuicError error, long applicationCode, ConnetErrorCode expected)
    {
        var mapped = ConnetError.FromApplicationError(new QuicException(error, applicationCode, "aborted"));

        Assert.NotNull(mapped);
        Assert.Equal(expected, mapped.Code);
    }

    [Fact]
    public void Quic_failures_without_an_application_code_do_not_map()
    {
        Assert.Null(ConnetError.FromApplicationError(new QuicException(QuicError.ConnectionIdle, null, "idle")));
    }
}
