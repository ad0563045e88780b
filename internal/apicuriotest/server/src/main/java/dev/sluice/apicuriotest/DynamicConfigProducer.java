package dev.sluice.apicuriotest;

import java.util.List;

import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;

/**
 * Makes the bean that the config-index Quarkus extension would have made at
 * build time (its deployment artifact is not on Maven Central): the list of
 * the registry's dynamically configurable properties, empty, so that none
 * can be changed through the admin API. Nothing Sluice tests needs them.
 */
@ApplicationScoped
public class DynamicConfigProducer {
    @Produces
    @ApplicationScoped
    DynamicConfigPropertyList dynamicConfigProperties() {
        return new DynamicConfigPropertyList(List.of());
    }
}
