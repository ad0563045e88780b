package dev.sluice.apicuriotest;

import javax.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.AuthenticatedHttpSecurityPolicy;
import io.quarkus.vertx.http.runtime.security.HttpSecurityPolicy;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/**
 * Quarkus's "authenticated" HTTP policy on every path, when the registry
 * starts with sluice.registry.require-authentication=true: an anonymous
 * request is challenged (401, WWW-Authenticate: Basic), wrong credentials
 * are refused (401) by Quarkus's basic authentication mechanism. Quarkus
 * 2.16 fixes its HTTP permission paths at build time; this bean lets one
 * build serve as a registry with and without authentication.
 */
@ApplicationScoped
public class AuthRequiredPolicy implements HttpSecurityPolicy {
    @ConfigProperty(name = "sluice.registry.require-authentication", defaultValue = "false")
    boolean required;

    private final HttpSecurityPolicy authenticated = new AuthenticatedHttpSecurityPolicy();

    @Override
    public Uni<CheckResult> checkPermission(RoutingContext request, Uni<SecurityIdentity> identity,
            AuthorizationRequestContext context) {
        if (!required) {
            return Uni.createFrom().item(CheckResult.PERMIT);
        }
        return authenticated.checkPermission(request, identity, context);
    }
}
